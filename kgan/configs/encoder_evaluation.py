"""The end-of-run options of the models with an encoder (``train/encoder_evaluation.py``): BiGAN and the AAE."""

from __future__ import annotations

import dataclasses
from typing import Optional

from kgan.configs.base import _field


@dataclasses.dataclass(frozen=True)
class EncoderEvaluationOptions:
    """How many images the end-of-run probes read; mixed into `BiGANConfig` and `AdversarialAutoencoderConfig`."""

    representation_train_images: Optional[int] = _field(
        None, "End-of-run probes: training images encoded to fit the linear probe and the 1-NN index; unset: the whole split."
    )
    representation_test_images: Optional[int] = _field(
        None, "End-of-run probes and reconstructions: test images scored (points: mixture samples, 2,000 if unset); unset: "
        "the whole test split."
    )

    def representation_problems(self, problems: list) -> None:
        """Appends the problems of these fields (each a positive count or unset)."""
        for name in ("representation_train_images", "representation_test_images"):
            self._check_positive(problems, name, allow_none=True)
