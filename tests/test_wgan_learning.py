"""Learning test: `kgan.WGANGP` covers the 5x5 grid of Gaussians (``grid25``).

Recipe (found by measurement, bench/mixtures.py):

* generator ``mlp_generator(latent_dim=2, hidden_units=(256,) * 4)``: a *2-D*
  latent and 4 hidden layers. Tearing a connected latent distribution into 25
  separate blobs is what makes narrow modes slow for the generator: fitted
  directly to exact minibatch optimal-transport targets (no critic) for 3,000
  steps, a 2x256 generator with a 64-D latent covered 0 modes, this one 25.
* critic ``mlp_discriminator(hidden_units=(256, 256))``.
* ``gradient_penalty_weight=10``, ``discriminator_steps=5`` (n_critic), minibatches
  of 64 (the dataset is batched by 5 x 64), and the **one-sided** penalty
  ``max(0, ||grad D|| - 1)^2`` (the variant in the paper's appendix). The
  two-sided penalty also pulls the critic's gradient norm *up* to 1 where the
  critic must turn (between modes and at each mode's peak). Against uniform
  fake samples, after 6,000 steps the critic's gradient pointed to the
  nearest mode with mean cosine 0.48 (one-sided) vs 0.23 (two-sided); with the
  two-sided penalty this recipe covered 15, 0 and 1 modes (seeds 0-2, 6,000
  steps).
* Adam(beta_1=0.5, beta_2=0.9) for both networks, learning rate
  PolynomialDecay(1e-3 -> 1e-4) over the run (same rate for G and critic).

Measured (5,000 generator steps, seeds 0/1/2, one CPU thread, ~50 s each):
25/25, 25/25, 25/25 modes with 80 %, 81 %, 79 % high-quality samples; the
critic's Wasserstein estimate fell from ~0.4 (first 1,000 steps) to ~0.04.
"""

import keras
import numpy as np

import kgan
from kgan.data.mixtures import gaussian_mixture
from kgan.metrics import mode_coverage
from kgan.networks import mlp_discriminator, mlp_generator

GRID_STEPS = 5000
EPOCH_STEPS = 500
MINIBATCH = 64
N_CRITIC = 5


def train_wgangp_on_grid(steps=GRID_STEPS, seed=0, one_sided_penalty=True):
    """Trains the recipe above on grid25; returns ``(model, history, coverage)``."""
    keras.utils.set_random_seed(seed)
    mixture = gaussian_mixture("grid25")
    latent_dim = 2
    model = kgan.WGANGP(
        mlp_generator(latent_dim, 2, (256,) * 4),
        mlp_discriminator(2, (256, 256)),
        latent_dim,
        gradient_penalty_weight=10.0,
        one_sided_penalty=one_sided_penalty,
        discriminator_steps=N_CRITIC,
        seed=seed,
    )
    schedule = lambda: keras.optimizers.schedules.PolynomialDecay(1e-3, steps, 1e-4)  # noqa: E731
    model.compile(
        keras.optimizers.Adam(schedule(), beta_1=0.5, beta_2=0.9),
        keras.optimizers.Adam(schedule(), beta_1=0.5, beta_2=0.9),
    )
    history = model.fit(
        mixture.dataset(N_CRITIC * MINIBATCH, seed=seed + 1),
        steps_per_epoch=EPOCH_STEPS,
        epochs=steps // EPOCH_STEPS,
        verbose=0,
    )
    coverage = mode_coverage(model.generate(2500, seed=3).numpy(), mixture.centers, mixture.std)
    return model, history, coverage


def test_wgangp_covers_the_grid_of_25_and_its_wasserstein_estimate_falls():
    """Learning: >= 20 of 25 modes, >= 50 % high-quality samples (3 sigma), fixed seed.

    And the critic's estimate E[D(x)] - E[D(G(z))] (epoch means) falls: the last
    two epochs average under 30 % of the largest of the first three (measured
    ~10 %), and stays positive (a negative estimate means the critic lags).
    """
    model, history, coverage = train_wgangp_on_grid()
    estimates = np.asarray(history.history["wasserstein_estimate"])
    assert int(model.train_steps) == GRID_STEPS
    assert coverage.modes_covered >= 20, (coverage, estimates)
    assert coverage.high_quality_fraction >= 0.5, (coverage, estimates)
    assert np.all(np.isfinite(estimates)), estimates
    assert estimates[-2:].mean() < 0.3 * estimates[:3].max(), estimates
    assert estimates[-1] > 0.0, estimates
