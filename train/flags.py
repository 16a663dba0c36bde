"""absl flags generated from a config dataclass, so flags and configs cannot drift.

Every field of the dataclass becomes a flag of the same name, type, default
and help text (the field's ``metadata["help"]``). ``--preset=<name>`` starts
from a named config instead of the dataclass defaults; flags given on the
command line or in a ``--flagfile`` override the preset.
"""

from __future__ import annotations

import dataclasses
import types
import typing

from absl import flags

PRESET_FLAG = "preset"


def _base_type(annotation):
    """``Optional[X]`` -> ``X``; other annotations unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def define_config_flags(config_cls, presets: dict, flag_values=flags.FLAGS) -> None:
    """Defines one flag per field of ``config_cls`` plus ``--preset``.

    Args:
      config_cls: a dataclass whose fields have str/int/float/bool (optionally
        ``Optional``) or tuple-of-int annotations and a ``help`` metadata entry.
      presets: name -> instance of ``config_cls``, selectable with ``--preset``.
      flag_values: the `flags.FlagValues` to define them in.
    """
    hints = typing.get_type_hints(config_cls)
    for field in _flag_fields(config_cls):
        kind = _base_type(hints[field.name])
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default
        help_text = field.metadata.get("help", field.name)
        if kind is bool:
            flags.DEFINE_boolean(field.name, default, help_text, flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(field.name, default, help_text, flag_values=flag_values)
        elif kind is float:
            flags.DEFINE_float(field.name, default, help_text, flag_values=flag_values)
        elif kind is str:
            flags.DEFINE_string(field.name, default, help_text, flag_values=flag_values)
        elif kind is tuple or typing.get_origin(kind) is tuple:
            flags.DEFINE_list(field.name, [str(v) for v in default], help_text + " (comma-separated)", flag_values=flag_values)
        else:
            raise TypeError(f"No flag type for field {field.name!r} annotated {hints[field.name]!r}.")
    flags.DEFINE_enum(
        PRESET_FLAG,
        None,
        sorted(presets),
        "Start from this named config (kgan.configs.PRESETS); flags given explicitly override it.",
        flag_values=flag_values,
    )


def _flag_fields(config_cls):
    """The fields that get a flag: all but those the config says do not apply to its model (``flagless_fields``)."""
    skipped = set(config_cls.flagless_fields()) if hasattr(config_cls, "flagless_fields") else set()
    return [field for field in dataclasses.fields(config_cls) if field.name not in skipped]


def config_from_flags(config_cls, presets: dict, flag_values=flags.FLAGS):
    """Builds the config: the preset (or the defaults) updated by the flags that were given.

    Raises:
      ValueError: a list flag holds a non-integer.
    """
    preset = flag_values[PRESET_FLAG].value
    config = presets[preset] if preset else config_cls()
    hints = typing.get_type_hints(config_cls)
    overrides = {}
    for field in _flag_fields(config_cls):
        flag = flag_values[field.name]
        if not flag.present:
            continue
        value = flag.value
        kind = _base_type(hints[field.name])
        if kind is tuple or typing.get_origin(kind) is tuple:
            default = field.default_factory() if field.default is dataclasses.MISSING else field.default
            if default and all(isinstance(v, str) for v in default):
                value = tuple(value)  # A list of names, e.g. --attributes=Male,Young.
            else:
                try:
                    value = tuple(int(v) for v in value)
                except ValueError:
                    raise ValueError(f"--{field.name} must be comma-separated integers, e.g. 128,128; got {','.join(value)}.") from None
        overrides[field.name] = value
    return dataclasses.replace(config, **overrides)
