"""kgan: a Keras-native GAN model zoo."""

import setuptools

setuptools.setup(
    name="kgan",
    version="0.1.0",
    description="Keras 3 / TensorFlow GAN model zoo: GAN, WGAN, WGAN-GP, cGAN, CycleGAN, Pix2Pix, StarGAN, InfoGAN, CatGAN.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["kgan", "kgan.*"]),
    package_data={"kgan.data": ["embedded/*.npz", "embedded/LICENSE*"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3",
        "tensorflow-datasets>=4.9",
        # TFDS needs it to prepare any dataset but does not declare it.
        "importlib_resources",
        "numpy",
        "absl-py",
        # PNG sample grids.
        "pillow",
        # tf.summary needs it; TF 2.21 no longer installs it.
        "tensorboard",
        # The Hungarian assignment of clusters to classes (kgan.metrics.clustering).
        "scipy",
    ],
    extras_require={
        "dev": [
            "pytest>=7",
            # Runs the suite on every core (pytest.ini: -n auto): on 2 cores,
            # tests/test_conditional_gan.py + tests/test_remedies.py take 363 s in
            # one process and 188 s on two workers.
            "pytest-xdist>=3.5",
            # The official PredictRequest / ModelServerConfig protos for the
            # serving contract tests (tests/test_serving.py).
            "tensorflow-serving-api",
            # tests/test_losses.py redraws bench/generator_losses.py's figure.
            "matplotlib",
        ],
        # Figures drawn by bench/ scripts (bench/generator_losses.py): curves, not image grids,
        # which kgan.rendering draws with pillow alone. Never needed by the library or tests.
        "bench": [
            "matplotlib",
            # bench/vs_pytorch.py only: the PyTorch re-implementations kgan's speed is compared with
            # (bench/torch_models.py). Never a dependency of kgan or of its tests (they skip without it).
            # Without a GPU, the CPU wheel is much smaller: pip install torch --index-url https://download.pytorch.org/whl/cpu
            "torch>=2.4",
        ],
    },
)
