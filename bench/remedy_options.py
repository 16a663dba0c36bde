"""The remedies the mode-collapse benches compare: one change each to a GAN recipe.

`bench/mode_collapse.py` (2-D mixtures, MLPs) and `bench/stacked_modes.py`
(stacked Fashion-MNIST, DCGAN) train a recipe once per remedy; the options go
to the model (``kgan.GAN(..., **model_options)``) and to the critic's builder
(``mlp_discriminator`` / ``dcgan_discriminator(..., **critic_options)``).
"""

# name -> (label, model options, critic options, applies to these loss recipes).
_ALL = ("gan", "gan_minimax", "gan_pacgan_nets", "wgangp", "dcgan")
_GANS = ("gan", "gan_minimax", "gan_pacgan_nets", "dcgan")
REMEDIES = {
    "none": ("none", {}, {}, _ALL),
    "label_smoothing": ("one-sided label smoothing 0.2", {"label_smoothing": 0.2}, {}, _GANS),
    "feature_matching": ("feature matching (weight 1)", {"feature_matching": 1.0}, {}, _ALL),
    "minibatch_discrimination": ("minibatch discrimination", {}, {"minibatch": "discrimination"}, _ALL),
    "minibatch_stddev": ("minibatch stddev", {}, {"minibatch": "stddev"}, _ALL),
    "historical_averaging": ("historical averaging (weight 1e-3)", {"historical_averaging": 1e-3}, {}, _ALL),
    "consensus": ("consensus optimization (gamma 1)", {"consensus": 1.0}, {}, _ALL),
    "spectral_norm": ("spectral normalisation (D)", {}, {"spectral_norm": True}, _ALL),
    "generator_ema": ("generator EMA 0.99 (sampling)", {"generator_ema": 0.99}, {}, _ALL),
    # PacGAN (Lin et al. 2018): D judges packs of m points; the paper's grid runs use m = 2..4.
    "pacgan2": ("PacGAN2 (packs of 2)", {"pack": 2}, {}, _ALL),
    "pacgan4": ("PacGAN4 (packs of 4)", {"pack": 4}, {}, _ALL),
    # Unrolled GAN (Metz et al. 2017): 5 unrolled D steps, as in its mixture experiments; eta = D's rate,
    # and 1e-2 (plain gradient steps move less than D's Adam steps at one rate).
    "unrolled5": ("unrolled GAN, 5 steps", {"unrolled_steps": 5}, {}, _ALL),
    "unrolled5_eta1e-2": ("unrolled GAN, 5 steps, eta 1e-2", {"unrolled_steps": 5, "unrolled_learning_rate": 1e-2}, {}, _ALL),
    # R1 (Mescheder et al. 2018): D adds gamma/2 E||grad D(x)||^2 on real points, gamma 1.
    "r1": ("R1 penalty (gamma 1)", {"r1_penalty": 1.0}, {}, _GANS),
    # Both networks step at once on one minibatch (the lectures' simultaneous SGD); n_critic = 1.
    "simultaneous": ("simultaneous updates", {"updates": "simultaneous"}, {}, _ALL),
    # The control for the two rows above under WGAN-GP: alternating updates with n_critic cut from 5
    # to 1, the one other change those rows make (the GAN recipes already take one D step).
    "one_critic_step": ("alternating, n_critic 1 (control)", {}, {}, ("wgangp",)),
    # Minibatch discrimination compares every pair in the batch ([B, B, kernels, dim] per D call), so at
    # the GAN recipes' batch of 256 a 10,000-step run takes over 40 min on one core; at 64 it is affordable.
    # Its row at batch 64 is read against the plain GAN at batch 64, the control beside it.
    "minibatch_discrimination_batch64": ("minibatch discrimination, batch 64", {}, {"minibatch": "discrimination"}, ("gan", "gan_minimax")),
    "none_batch64": ("none, batch 64 (control)", {}, {}, ("gan", "gan_minimax")),
}

# Remedies that change the recipe itself, not only add an option: consensus optimization and simultaneous
# SGD step both networks at once, so they run with one discriminator step per generator step whatever the
# recipe's k (and "one_critic_step" is their control); the batch-64 rows train on minibatches of 64.
RECIPE_CHANGES = {
    "consensus": {"discriminator_steps": 1},
    "simultaneous": {"discriminator_steps": 1},
    "one_critic_step": {"discriminator_steps": 1},
    "minibatch_discrimination_batch64": {"minibatch": 64},
    "none_batch64": {"minibatch": 64},
}
