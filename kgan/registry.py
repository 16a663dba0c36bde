"""The registry of kgan's models: one entry per model, consulted by the binaries, tools and contract tests.

An entry (`ModelSpec`) names a model class, its config dataclass and named
presets; the config turns itself into the model's networks
(``config.build_networks(shapes)``) and constructor options
(``config.model_options(shapes)``), so data flows one way: flags -> config ->
constructor. Models register themselves where they are defined::

    registry.register(ModelSpec("gan", GAN, configs.GANConfig, configs.PRESETS))

and `kgan.registry.get("gan").build(config, shapes)` makes an uncompiled model.
"""

from __future__ import annotations

import dataclasses

__all__ = ["ModelSpec", "get", "names", "register"]

_SPECS: dict = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What kgan knows of one model.

    Attributes:
      name: the registry key (``"gan"``), also the binary's name (``train/<name>.py``)
        when the model has one.
      model_class: the `kgan.models.AdversarialModel` subclass.
      config_class: its config dataclass (None for models without a binary);
        it defines ``build_networks(shapes)`` and ``model_options(shapes)``.
      presets: ``{name: config}`` for ``--preset``.
    """

    name: str
    model_class: type
    config_class: type | None = None
    presets: dict = dataclasses.field(default_factory=dict)

    def build(self, config, shapes):
        """An uncompiled model for ``config`` and the data's ``shapes`` (what the config's builders take)."""
        if self.config_class is None:
            raise ValueError(f"Model {self.name!r} has no config class; build it with its constructor.")
        return self.model_class(**config.build_networks(shapes), **config.model_options(shapes))


def register(spec: ModelSpec) -> ModelSpec:
    """Adds ``spec``; registering the same name twice with another class is an error (re-imports are fine)."""
    existing = _SPECS.get(spec.name)
    if existing is not None and existing.model_class.__qualname__ != spec.model_class.__qualname__:
        raise ValueError(f"A model named {spec.name!r} is registered already ({existing.model_class.__qualname__}).")
    _SPECS[spec.name] = spec
    return spec


def get(name: str) -> ModelSpec:
    """The entry of model ``name``; KeyError naming the registered ones otherwise."""
    if name not in _SPECS:
        raise KeyError(f"No model {name!r} is registered; registered: {', '.join(names())}.")
    return _SPECS[name]


def names() -> list:
    """Registered model names, sorted."""
    return sorted(_SPECS)
