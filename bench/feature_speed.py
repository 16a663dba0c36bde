r"""Seconds per 1,000 images of the feature networks (FID InceptionV3, evaluation classifier) on this machine.

    python bench/feature_speed.py            # ~2 min on 2 CPU cores

Times `kgan.metrics.features.FeatureExtractor` on 28x28 grayscale images in
[-1, 1] (Fashion-MNIST's shape; the Inception input is resized to 299x299), a
warm-up batch first, then the median of ``--repeats`` passes over
``--images`` images. Prints a Markdown table.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from kgan.metrics.features import feature_extractor

    images = np.random.default_rng(0).uniform(-1, 1, (args.images, 28, 28, 1)).astype(np.float32)
    print("| features | batch | seconds per 1,000 images (median) | runs |")
    print("| --- | --- | --- | --- |")
    for space in ("inception", "classifier"):
        extractor = feature_extractor(space)
        extractor(images[: extractor.batch_size])  # trace
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            extractor(images)
            runs.append((time.perf_counter() - start) * 1000 / len(images))
        print(f"| {extractor.name} | {extractor.batch_size} | {np.median(runs):.1f} | {', '.join(f'{r:.1f}' for r in runs)} |", flush=True)


if __name__ == "__main__":
    main()
