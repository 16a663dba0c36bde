"""Plain Keras ``train_step``s over kgan's networks: the baselines of bench/throughput.py.

Each follows the pattern of the keras-io examples (keras.io/examples/generative:
dcgan_overriding_train_step, wgan_gp, conditional_gan, cyclegan): float32, no
dtype policy, no XLA, one ``tf.GradientTape`` per update, losses written out
inline, no image pool, no cross-replica bookkeeping. StarGAN has no keras-io
example; its baseline is the same pattern applied to the paper's losses. They
do the same work per step as the kgan model they are compared with (the same
networks, batch and number of updates), so images/s compare directly. Every
network is called with ``training=True``, as kgan's models do: in a custom
``train_step`` Keras 3 leaves ``training`` at None, which runs
BatchNormalization in inference mode (fixed moving statistics, no batch
moments, no moving-average updates): less work, and a different model. (The
CycleGAN and StarGAN networks have only instance normalisation, which does not
depend on ``training``.)

Benchmark code only: these are not kgan models and are not tested for
training quality.
"""

import keras
import tensorflow as tf

_bce = keras.losses.BinaryCrossentropy(from_logits=True)


def _apply(optimizer, tape, loss, variables):
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))


class _Baseline(keras.Model):
    def __init__(self, **networks):
        super().__init__()
        for name, network in networks.items():
            setattr(self, name, network)
        self.seed_generator = keras.random.SeedGenerator(0)
        self.built = True

    def compile(self, *optimizers):
        super().compile(jit_compile=False)
        self.optimizers_ = optimizers

    def normal(self, shape):
        return keras.random.normal(shape, seed=self.seed_generator)


class DCGANBaseline(_Baseline):
    """keras-io DCGAN: D on concatenated fake/real with noisy labels, then G (non-saturating)."""

    def __init__(self, generator, discriminator, latent_dim):
        super().__init__(generator=generator, discriminator=discriminator)
        self.latent_dim = latent_dim

    def train_step(self, real_images):
        d_optimizer, g_optimizer = self.optimizers_
        n = tf.shape(real_images)[0]
        combined = tf.concat([self.generator(self.normal((n, self.latent_dim)), training=True), real_images], axis=0)
        labels = tf.concat([tf.ones((n, 1)), tf.zeros((n, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(tf.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = _bce(labels, self.discriminator(combined, training=True))
        _apply(d_optimizer, tape, d_loss, self.discriminator.trainable_weights)
        with tf.GradientTape() as tape:
            g_loss = _bce(tf.zeros((n, 1)), self.discriminator(self.generator(self.normal((n, self.latent_dim)), training=True)))
        _apply(g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}


class WGANGPBaseline(_Baseline):
    """keras-io WGAN-GP: ``n_critic`` critic updates (here on successive minibatches), penalty by an inner tape."""

    def __init__(self, generator, discriminator, latent_dim, n_critic=5, gp_weight=10.0):
        super().__init__(generator=generator, discriminator=discriminator)
        self.latent_dim, self.n_critic, self.gp_weight = latent_dim, n_critic, gp_weight

    def gradient_penalty(self, real, fake):
        alpha = keras.random.uniform((tf.shape(real)[0], 1, 1, 1), seed=self.seed_generator)
        mixed = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            scores = self.discriminator(mixed, training=True)
        norms = tf.sqrt(tf.reduce_sum(tf.square(tape.gradient(scores, mixed)), axis=[1, 2, 3]))
        return tf.reduce_mean((norms - 1.0) ** 2)

    def train_step(self, real_images):
        d_optimizer, g_optimizer = self.optimizers_
        for real in tf.split(real_images, self.n_critic):
            n = tf.shape(real)[0]
            with tf.GradientTape() as tape:
                fake = self.generator(self.normal((n, self.latent_dim)), training=True)
                d_loss = tf.reduce_mean(self.discriminator(fake, training=True)) - tf.reduce_mean(self.discriminator(real, training=True))
                d_loss += self.gp_weight * self.gradient_penalty(real, fake)
            _apply(d_optimizer, tape, d_loss, self.discriminator.trainable_weights)
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(self.discriminator(self.generator(self.normal((n, self.latent_dim)), training=True)))
        _apply(g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}


class ConditionalGANBaseline(_Baseline):
    """keras-io conditional GAN pattern with kgan's (z, labels) / (images, labels) networks."""

    def __init__(self, generator, discriminator, latent_dim, num_classes):
        super().__init__(generator=generator, discriminator=discriminator)
        self.latent_dim, self.num_classes = latent_dim, num_classes

    def train_step(self, data):
        d_optimizer, g_optimizer = self.optimizers_
        real_images, labels = data
        n = tf.shape(real_images)[0]
        fake = self.generator([self.normal((n, self.latent_dim)), labels], training=True)
        with tf.GradientTape() as tape:
            scores = self.discriminator([tf.concat([fake, real_images], 0), tf.concat([labels, labels], 0)], training=True)
            d_loss = _bce(tf.concat([tf.zeros((n, 1)), tf.ones((n, 1))], 0), scores)
        _apply(d_optimizer, tape, d_loss, self.discriminator.trainable_weights)
        with tf.GradientTape() as tape:
            fake = self.generator([self.normal((n, self.latent_dim)), labels], training=True)
            g_loss = _bce(tf.ones((n, 1)), self.discriminator([fake, labels], training=True))
        _apply(g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}


class CycleGANBaseline(_Baseline):
    """keras-io CycleGAN: one persistent tape over all losses (LSGAN, cycle 10, identity 5), four updates, no pool."""

    def __init__(self, generator_xy, generator_yx, discriminator_x, discriminator_y):
        super().__init__(gen_g=generator_xy, gen_f=generator_yx, disc_x=discriminator_x, disc_y=discriminator_y)

    def train_step(self, data):
        g_optimizer, d_optimizer = self.optimizers_
        real_x, real_y = data
        mse = lambda a, b: tf.reduce_mean(tf.square(a - b))  # noqa: E731
        l1 = lambda a, b: tf.reduce_mean(tf.abs(a - b))  # noqa: E731
        with tf.GradientTape(persistent=True) as tape:
            fake_y, fake_x = self.gen_g(real_x), self.gen_f(real_y)
            cycled_x, cycled_y = self.gen_f(fake_y), self.gen_g(fake_x)
            same_x, same_y = self.gen_f(real_x), self.gen_g(real_y)
            disc_real_x, disc_fake_x = self.disc_x(real_x), self.disc_x(fake_x)
            disc_real_y, disc_fake_y = self.disc_y(real_y), self.disc_y(fake_y)
            cycle = 10.0 * (l1(real_x, cycled_x) + l1(real_y, cycled_y))
            g_loss = mse(disc_fake_y, 1.0) + cycle + 5.0 * l1(real_y, same_y)
            f_loss = mse(disc_fake_x, 1.0) + cycle + 5.0 * l1(real_x, same_x)
            dx_loss = 0.5 * (mse(disc_real_x, 1.0) + mse(disc_fake_x, 0.0))
            dy_loss = 0.5 * (mse(disc_real_y, 1.0) + mse(disc_fake_y, 0.0))
        # A Keras 3 optimizer serves the variables it was built for: one per pair.
        for optimizer, pairs in ((g_optimizer, ((g_loss, self.gen_g), (f_loss, self.gen_f))),
                                 (d_optimizer, ((dx_loss, self.disc_x), (dy_loss, self.disc_y)))):
            grads_and_vars = []
            for loss, network in pairs:
                variables = network.trainable_weights
                grads_and_vars += zip(tape.gradient(loss, variables), variables)
            optimizer.apply_gradients(grads_and_vars)
        return {"g_loss": g_loss, "dx_loss": dx_loss}


class StarGANBaseline(_Baseline):
    """StarGAN's losses in the same pattern: n_critic critic updates (WGAN-GP + domain BCE), then G (adv + cls + rec)."""

    def __init__(self, generator, discriminator, n_critic=2):
        super().__init__(generator=generator, discriminator=discriminator)
        self.n_critic = n_critic

    def train_step(self, data):
        d_optimizer, g_optimizer = self.optimizers_
        images, labels = data
        for x, c in zip(tf.split(images, self.n_critic), tf.split(labels, self.n_critic)):
            target = tf.random.shuffle(c)
            with tf.GradientTape() as tape:
                fake = self.generator([x, target], training=True)
                real_src, real_cls = self.discriminator(x, training=True)
                fake_src, _ = self.discriminator(fake, training=True)
                alpha = keras.random.uniform((tf.shape(x)[0], 1, 1, 1), seed=self.seed_generator)
                mixed = x + alpha * (fake - x)
                with tf.GradientTape() as inner:
                    inner.watch(mixed)
                    mixed_src, _ = self.discriminator(mixed, training=True)
                norms = tf.sqrt(tf.reduce_sum(tf.square(inner.gradient(mixed_src, mixed)), axis=[1, 2, 3]))
                cls = tf.reduce_mean(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(c, real_cls), axis=1))
                d_loss = tf.reduce_mean(fake_src) - tf.reduce_mean(real_src) + cls + 10.0 * tf.reduce_mean((norms - 1.0) ** 2)
            _apply(d_optimizer, tape, d_loss, self.discriminator.trainable_weights)
        target = tf.random.shuffle(c)
        with tf.GradientTape() as tape:
            fake = self.generator([x, target], training=True)
            fake_src, fake_cls = self.discriminator(fake, training=True)
            cls = tf.reduce_mean(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(target, fake_cls), axis=1))
            g_loss = -tf.reduce_mean(fake_src) + cls + 10.0 * tf.reduce_mean(tf.abs(x - self.generator([fake, c], training=True)))
        _apply(g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}
