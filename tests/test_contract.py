"""The model contract (tests/test_case.py `ModelContract`) for every model in `kgan.registry`."""

from kgan import registry
from tests.test_case import CONTRACT_CASES, ModelContract


def test_every_registered_model_has_a_contract_case():
    assert set(registry.names()) <= set(CONTRACT_CASES), sorted(set(registry.names()) - set(CONTRACT_CASES))


for _name in sorted(CONTRACT_CASES):
    globals()[f"Test{''.join(p.title() for p in _name.split('_'))}Contract"] = type(
        f"Test{_name}Contract", (ModelContract,), {"case": CONTRACT_CASES[_name]}
    )
