r"""Writes ``<export_dir>/models.config`` for ``tensorflow_model_server --model_config_file``.

Every export already rewrites it with this machine's absolute paths. Rewrite it
for where the server sees the exports, e.g. the TF Serving Docker image with
``-v $PWD/saved_models:/models``::

    python train/models_config.py --export_dir=saved_models --serving_root=/models

Later exports keep that root. Prints the file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from kgan import export  # noqa: E402

_EXPORT_DIR = flags.DEFINE_string("export_dir", "saved_models", "Directory holding <name>/<version>/ exports.")
_SERVING_ROOT = flags.DEFINE_string(
    "serving_root", None,
    "Absolute path (or URI) under which the server sees --export_dir; default: its absolute path here.",
)


def main(argv):
    del argv
    if not os.path.isdir(_EXPORT_DIR.value):
        raise app.UsageError(f"--export_dir={_EXPORT_DIR.value!r} does not exist; export a model first.")
    root = _SERVING_ROOT.value or os.path.abspath(_EXPORT_DIR.value)
    path = export.write_models_config(_EXPORT_DIR.value, serving_root=root)
    with open(path, encoding="utf-8") as f:
        print(f.read(), end="")
    print(f"# written to {path}", file=sys.stderr)


if __name__ == "__main__":
    app.run(main)
