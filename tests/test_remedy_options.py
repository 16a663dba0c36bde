"""bench/remedy_options.py: the recipe changes belong to remedies, and each control changes only what its remedies change."""

from tests.test_case import import_bench

# bench/remedy_options.py defines no absl flags, so importing it cannot clash with a binary's flags.
remedy_options = import_bench("remedy_options")


def test_every_recipe_change_belongs_to_a_remedy_of_the_same_recipes():
    for remedy in remedy_options.RECIPE_CHANGES:
        assert remedy in remedy_options.REMEDIES, remedy


def test_a_control_changes_the_recipe_as_its_remedies_do_and_adds_no_option():
    changes, remedies = remedy_options.RECIPE_CHANGES, remedy_options.REMEDIES
    for control, compared in (("one_critic_step", ("consensus", "simultaneous")), ("none_batch64", ("minibatch_discrimination_batch64",))):
        assert remedies[control][1:3] == ({}, {}), control
        for remedy in compared:
            assert changes[remedy] == changes[control], remedy
            assert set(remedies[control][3]) <= set(remedies[remedy][3]), remedy
