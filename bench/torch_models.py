r"""PyTorch re-implementations of kgan's benchmark networks and train steps, for bench/vs_pytorch.py.

Every network repeats its kgan builder layer for layer -- kernel sizes,
strides, padding, biases, normalisation (type, epsilon, momentum, affine
parameters), activations, the final dense/conv -- so the parameter counts
equal Keras' (bench/vs_pytorch.py checks them before timing anything):

* `DCGANGenerator`, `DCGANDiscriminator`: kgan/networks/dcgan.py
  (``dcgan_generator``, ``dcgan_discriminator`` with ``"batch"`` or
  ``"layer"`` normalisation);
* `ResnetGenerator`, `PatchDiscriminator`: kgan/networks/resnet_generator.py
  and kgan/networks/patch_discriminator.py (CycleGAN's).

Keras' defaults are spelled out where PyTorch's differ: BatchNormalization
momentum 0.99 (PyTorch's ``momentum`` is 1 - that: 0.01) and epsilon 1e-3;
LayerNormalization epsilon 1e-3 over (H, W, C) with an affine parameter per
element; Adam epsilon 1e-7. A Keras ``padding="same"`` 4x4 stride-2
convolution or transposed convolution on even sizes pads one pixel each side:
PyTorch ``padding=1`` gives the same sizes (7 -> 14 -> 28) and the same
numbers. The 3x3 stride-2 transposed convolution of the ResNet generator is
the one exception: TF's "same" pads it at the bottom/right only, PyTorch's
``padding=1, output_padding=1`` (pytorch-CycleGAN's layer, what the bench
times) at the top/left, so the outputs are the same work shifted by one pixel;
``tf_alignment=True`` runs it TF's way (a crop of the ``padding=0`` output) for
the tests, which compare numbers.

Under kgan's ``mixed_bfloat16`` policy the DCGAN output layers (G's
``to_image``, D's ``logit``) run in float32 and CycleGAN's networks end in a
float32 cast; `Float32` does the same inside ``torch.autocast``.

The train steps (`GANStep`, `ExamplesGANStep`, `WGANGPStep`, `CycleGANStep`)
do the work of one kgan ``train_step`` -- the same forward and backward
passes, fresh noise where kgan draws it, the same losses -- written the
efficient PyTorch way: the generator's forward under ``torch.no_grad()`` in
the discriminator's step, the discriminator's parameters frozen
(``requires_grad_(False)``) during the generator's backward, ``zero_grad(
set_to_none=True)``, fused Adam.

Benchmark code only; it imports torch and is never imported by kgan or its
tests without ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

# Keras' BatchNormalization: moving = 0.99 moving + 0.01 batch; PyTorch's momentum is the batch's weight.
KERAS_BN_MOMENTUM = 0.01
KERAS_BN_EPSILON = 1e-3
KERAS_LN_EPSILON = 1e-3
KERAS_ADAM_EPSILON = 1e-7
INSTANCE_NORM_EPSILON = 1e-5  # kgan.networks.layers.instance_normalization


def upsampling_plan(size: int) -> tuple:
    """``(start_size, num_doublings)`` of a DCGAN side ``s0 * 2**n`` (4 <= s0 <= 7, n >= 1), as kgan's ``_upsampling_plan``."""
    side, doublings = size, 0
    while side % 2 == 0 and side // 2 >= 4:
        side //= 2
        doublings += 1
    if doublings == 0 or side > 7:
        raise ValueError(f"DCGAN networks need an image side s0 * 2**n with 4 <= s0 <= 7, n >= 1; got {size}.")
    return side, doublings


class Float32(nn.Module):
    """Runs ``module`` in float32 even inside ``torch.autocast``: kgan's ``dtype="float32"`` output layers."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        with torch.autocast("cpu", enabled=False):
            return self.module(x.float())


def _to_nchw_view(x_nhwc):
    """``[B, H, W, C]`` contiguous -> the NCHW view of it (channels_last strides, no copy)."""
    return x_nhwc.permute(0, 3, 1, 2)




class DCGANGenerator(nn.Module):
    """kgan's ``dcgan_generator(latent_dim, image_shape, base_filters)``: z ``[B, latent_dim]`` -> ``[B, C, H, W]`` in [-1, 1].

    Dense (no bias) to ``s0 * s0 * F`` features -> BatchNorm over those
    features -> ReLU -> reshape; ``n - 1`` blocks of 4x4 stride-2 transposed
    conv (no bias, filters halving) -> BatchNorm -> ReLU; a 4x4 stride-2
    transposed conv to C channels with bias -> tanh, in float32.

    Args:
      latent_dim: size of z.
      image_shape: ``(H, W, C)`` as kgan takes it (square).
      base_filters: filters of the last hidden layer.
      channels_last: reshape the projection as Keras does (H, W, C), which in
        PyTorch is an NCHW tensor with channels_last strides, for the
        channels_last variant; otherwise (C, H, W), the plain NCHW layout.
    """

    def __init__(self, latent_dim=100, image_shape=(28, 28, 1), base_filters=64, channels_last=False):
        super().__init__()
        start, doublings = upsampling_plan(image_shape[0])
        filters = base_filters * 2 ** (doublings - 1)
        self.start, self.filters, self.channels_last = start, filters, channels_last
        self.project = nn.Linear(latent_dim, start * start * filters, bias=False)
        self.project_bn = nn.BatchNorm1d(start * start * filters, eps=KERAS_BN_EPSILON, momentum=KERAS_BN_MOMENTUM)
        blocks = []
        for _ in range(doublings - 1):
            blocks += [
                nn.ConvTranspose2d(filters, filters // 2, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(filters // 2, eps=KERAS_BN_EPSILON, momentum=KERAS_BN_MOMENTUM),
                nn.ReLU(),
            ]
            filters //= 2
        self.up = nn.Sequential(*blocks)
        self.to_image = Float32(nn.ConvTranspose2d(filters, image_shape[-1], 4, stride=2, padding=1))

    def forward(self, z):
        x = F.relu(self.project_bn(self.project(z)))
        s, f = self.start, self.filters
        x = _to_nchw_view(x.view(-1, s, s, f)) if self.channels_last else x.view(-1, f, s, s)
        return torch.tanh(self.to_image(self.up(x)))


class _NHWCLayerNorm(nn.Module):
    """Keras ``LayerNormalization(axis=[1, 2, 3])`` on an NCHW tensor: per example over (H, W, C), affine per element.

    The parameters are laid out (H, W, C) as Keras' for channels_last tensors
    (normalised through their NHWC view, no copy) and (C, H, W) otherwise.
    """

    def __init__(self, channels, size, channels_last):
        super().__init__()
        self.channels_last = channels_last
        shape = (size, size, channels) if channels_last else (channels, size, size)
        self.norm = nn.LayerNorm(shape, eps=KERAS_LN_EPSILON)

    def forward(self, x):
        if self.channels_last:
            return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.norm(x)


class DCGANDiscriminator(nn.Module):
    """kgan's ``dcgan_discriminator(image_shape, base_filters, normalization)``: ``[B, C, H, W]`` -> logits ``[B, 1]``.

    n blocks of 4x4 stride-2 conv (bias on the first only; filters doubling
    from ``base_filters``) -> normalisation (none on the first; BatchNorm or
    LayerNorm over (H, W, C)) -> LeakyReLU(0.2); flatten, in Keras' (H, W, C)
    order for channels_last tensors (a view), (C, H, W) otherwise (a view of
    NCHW ones; the dense weights are the same numbers permuted); a dense layer
    to one logit, in float32.

    Args:
      image_shape: ``(H, W, C)``.
      base_filters: filters of the first layer.
      normalization: ``"batch"`` (DCGAN) or ``"layer"`` (the WGAN-GP critic).
      channels_last: flatten and lay LayerNorm's parameters out as Keras does (see `_NHWCLayerNorm`).
    """

    def __init__(self, image_shape=(28, 28, 1), base_filters=64, normalization="batch", channels_last=False):
        super().__init__()
        if normalization not in ("batch", "layer"):
            raise ValueError(f"normalization must be 'batch' or 'layer'; got {normalization!r}.")
        _, doublings = upsampling_plan(image_shape[0])
        layers, channels, filters, size = [], image_shape[-1], base_filters, image_shape[0]
        for i in range(doublings):
            size //= 2
            layers.append(nn.Conv2d(channels, filters, 4, stride=2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(filters, eps=KERAS_BN_EPSILON, momentum=KERAS_BN_MOMENTUM) if normalization == "batch"
                              else _NHWCLayerNorm(filters, size, channels_last))
            layers.append(nn.LeakyReLU(0.2))
            channels, filters = filters, filters * 2
        self.channels_last = channels_last
        self.features = nn.Sequential(*layers)
        self.logit = Float32(nn.Linear(size * size * channels, 1))

    def forward(self, images):
        x = self.features(images)
        return self.logit((x.permute(0, 2, 3, 1) if self.channels_last else x).flatten(1))


def instance_norm(channels: int, kind: str = "group") -> nn.Module:
    """Keras ``GroupNormalization(groups=-1, epsilon=1e-5)``: per example and channel over H, W, affine per channel.

    ``kind="group"``: ``nn.GroupNorm(C, C)``; ``"instance"``:
    ``nn.InstanceNorm2d(C, affine=True)``. Same numbers and parameters;
    PyTorch's CPU kernels differ in speed by memory format (GroupNorm is the
    faster one on NCHW tensors, InstanceNorm2d on channels_last ones, measured
    here at the bench's sizes), so each variant uses its faster one.
    """
    if kind == "group":
        return nn.GroupNorm(channels, channels, eps=INSTANCE_NORM_EPSILON)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, eps=INSTANCE_NORM_EPSILON, affine=True)
    raise ValueError(f"kind must be 'group' or 'instance'; got {kind!r}.")


class _TFSameTranspose3x3(nn.Module):
    """A 3x3 stride-2 transposed conv aligned as TF's ``padding="same"``: the ``padding=0`` output's first 2n rows/columns."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=0, bias=False)

    def forward(self, x):
        height, width = 2 * x.shape[-2], 2 * x.shape[-1]
        return self.conv(x)[..., :height, :width]


class _ResidualBlock(nn.Module):
    """kgan's ``residual_block``: ``x + IN(conv3x3(ReLU(IN(conv3x3(x)))))``, reflection padding, convolutions without bias."""

    def __init__(self, filters, norm):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(filters, filters, 3, bias=False), instance_norm(filters, norm), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(filters, filters, 3, bias=False), instance_norm(filters, norm),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """kgan's ``resnet_generator`` (CycleGAN's, reflect padding, no condition, no skips): ``[B, C, H, W]`` -> ``[B, C_out, H, W]``.

    ``c7s1-F`` (reflect pad 3, 7x7 conv without bias, instance norm, ReLU);
    ``num_downsampling`` x (zero pad 1, 3x3 stride-2 conv without bias,
    doubling filters, instance norm, ReLU); residual blocks; ``num_downsampling``
    x (3x3 stride-2 transposed conv without bias, halving filters, instance
    norm, ReLU); reflect pad 3, 7x7 conv with bias to ``C_out``; tanh in float32.

    Args:
      image_shape: ``(H, W, C)``.
      output_channels: C_out (default C).
      base_filters: filters of the first layer.
      num_downsampling: stride-2 layers down and up.
      num_residual_blocks: default 9 from 256 px, else 6 (kgan's rule).
      norm: ``"group"`` or ``"instance"`` (see `instance_norm`).
      tf_alignment: the up-sampling layers aligned as TF's (see the module docstring).
    """

    def __init__(self, image_shape=(256, 256, 3), output_channels=None, base_filters=64, num_downsampling=2,
                 num_residual_blocks=None, norm="group", tf_alignment=False):
        super().__init__()
        channels = image_shape[-1]
        if num_residual_blocks is None:
            num_residual_blocks = 9 if min(image_shape[:2]) >= 256 else 6
        filters = base_filters
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, filters, 7, bias=False), instance_norm(filters, norm), nn.ReLU()]
        for _ in range(num_downsampling):
            layers += [nn.Conv2d(filters, filters * 2, 3, stride=2, padding=1, bias=False), instance_norm(filters * 2, norm), nn.ReLU()]
            filters *= 2
        layers += [_ResidualBlock(filters, norm) for _ in range(num_residual_blocks)]
        for _ in range(num_downsampling):
            up = (_TFSameTranspose3x3(filters, filters // 2) if tf_alignment
                  else nn.ConvTranspose2d(filters, filters // 2, 3, stride=2, padding=1, output_padding=1, bias=False))
            layers += [up, instance_norm(filters // 2, norm), nn.ReLU()]
            filters //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(filters, output_channels or channels, 7)]
        self.body = nn.Sequential(*layers)

    def forward(self, images):
        return torch.tanh(self.body(images).float())


class PatchDiscriminator(nn.Module):
    """kgan's ``patch_discriminator`` (instance norm, no minibatch features): ``[B, C, H, W]`` -> logits ``[B, 1, h, w]``.

    ``num_layers`` 4x4 stride-2 convs and one 4x4 stride-1 conv, each after
    one pixel of zero padding, filters doubling from ``base_filters`` up to 8x,
    instance norm (and no bias) from the second, LeakyReLU(0.2); a 4x4
    stride-1 conv with bias to one logit per patch, cast to float32.

    Args:
      image_shape: ``(H, W, C)``.
      base_filters: filters of the first layer.
      num_layers: stride-2 layers (3: the 70x70 PatchGAN).
      norm: ``"group"`` or ``"instance"`` (see `instance_norm`).
    """

    def __init__(self, image_shape=(256, 256, 3), base_filters=64, num_layers=3, norm="group"):
        super().__init__()
        layers, channels, filters = [], image_shape[-1], base_filters
        for i in range(num_layers + 1):
            normalized = i > 0
            layers.append(nn.Conv2d(channels, filters, 4, stride=2 if i < num_layers else 1, padding=1, bias=not normalized))
            if normalized:
                layers.append(instance_norm(filters, norm))
            layers.append(nn.LeakyReLU(0.2))
            channels, filters = filters, min(filters * 2, base_filters * 8)
        layers.append(nn.Conv2d(channels, 1, 4, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, images):
        return self.body(images).float()


def parameter_counts(module: nn.Module) -> dict:
    """``{"trainable": n, "non_trainable": m}`` as Keras counts them (BatchNorm's running statistics are non-trainable weights there)."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    # num_batches_tracked is PyTorch bookkeeping with no Keras counterpart.
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return {"trainable": int(trainable), "non_trainable": int(buffers)}


# ---------------------------------------------------------------------- train steps


def _adam(parameters, learning_rate, beta_1, beta_2=0.999):
    # fused=True: PyTorch's CPU-fused Adam (torch >= 2.4), several times faster than the for-loop default here.
    return torch.optim.Adam(parameters, learning_rate, betas=(beta_1, beta_2), eps=KERAS_ADAM_EPSILON, fused=True)


def _bce(logits, target: float):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@contextlib.contextmanager
def frozen(module: nn.Module):
    """No parameter gradients for ``module`` inside the block (the opponent's backward skips its weight gradients)."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


class _Step:
    """A train step over fixed real images: ``step()`` runs one; ``images_per_step`` real images it reads.

    Args:
      bfloat16: forwards under ``torch.autocast("cpu", dtype=torch.bfloat16)``.
      channels_last: networks and images in ``torch.channels_last`` memory format.
      seed: seeds the real images and the noise.
    """

    def __init__(self, bfloat16=False, channels_last=False, seed=0):
        self.bfloat16, self.channels_last = bfloat16, channels_last
        self.generator = torch.Generator().manual_seed(seed)
        self.networks = {}

    def autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16)

    def images(self, shape, batch):
        """Uniform [-1, 1] images ``[batch, C, H, W]`` for ``shape`` ``(H, W, C)``, in the variant's memory format."""
        height, width, channels = shape
        images = torch.rand(batch, channels, height, width, generator=self.generator) * 2 - 1
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def prepare(self, **networks):
        for name, network in networks.items():
            network.train()
            if self.channels_last:
                network.to(memory_format=torch.channels_last)
            self.networks[name] = network
        return networks.values()

    def noise(self, batch, latent_dim):
        return torch.randn(batch, latent_dim, generator=self.generator)

    def compile(self, **options):
        """``torch.compile`` every network (forward and backward through AOTAutograd); the eager modules keep the parameters."""
        self.compiled = {name: torch.compile(network, **options) for name, network in self.networks.items()}

    def net(self, name):
        return getattr(self, "compiled", self.networks)[name]

    def parameter_counts(self) -> dict:
        return {name: parameter_counts(network) for name, network in self.networks.items()}


class GANStep(_Step):
    """One ``kgan.GAN`` train step (non-saturating loss, one D update, then one G update).

    D's update: fresh z ``[B, latent_dim]``, G(z) without gradients,
    ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` on the real batch x ``[B, C, H, W]``.
    G's update: *fresh* z again (kgan draws new noise per update), G(z) with
    gradients, ``BCE(D(G(z)), 1)`` with D frozen. So G runs forward twice
    per step; `ExamplesGANStep` runs it once.

    Args:
      image_shape: ``(H, W, C)``.
      batch: B.
      latent_dim, base_filters: as kgan's builders.
      **options: `_Step`'s.
    """

    def __init__(self, image_shape, batch, latent_dim=100, base_filters=64, **options):
        super().__init__(**options)
        self.latent_dim, self.batch = latent_dim, batch
        self.real = self.images(image_shape, batch)
        self.images_per_step = batch
        generator, discriminator = self.prepare(
            generator=DCGANGenerator(latent_dim, image_shape, base_filters, self.channels_last),
            discriminator=DCGANDiscriminator(image_shape, base_filters, "batch", self.channels_last),
        )
        self.g_optimizer = _adam(generator.parameters(), 2e-4, 0.5)
        self.d_optimizer = _adam(discriminator.parameters(), 2e-4, 0.5)

    def step(self):
        generator, discriminator = self.net("generator"), self.net("discriminator")
        with torch.no_grad(), self.autocast():
            fake = generator(self.noise(self.batch, self.latent_dim))
        with self.autocast():
            d_loss = _bce(discriminator(self.real), 1.0) + _bce(discriminator(fake), 0.0)
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        with frozen(self.networks["discriminator"]):
            with self.autocast():
                g_loss = _bce(discriminator(generator(self.noise(self.batch, self.latent_dim))), 1.0)
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        return d_loss, g_loss


class ExamplesGANStep(GANStep):
    """The pytorch/examples DCGAN step (github.com/pytorch/examples, dcgan/main.py), against ``kgan.GAN(reuse_fakes=True)``.

    One G forward per iteration: fake = G(z) with gradients; D's update on
    ``BCE(D(x), 1) + BCE(D(fake.detach()), 0)``; G's update on
    ``BCE(D(fake), 1)`` through the same forward, against the updated D. (The
    example calls backward on D's two terms separately; one backward of their
    sum is the same gradient. D is frozen during G's backward here, which the
    example does not do: it computes D's gradients and discards them.)
    """

    def step(self):
        generator, discriminator = self.net("generator"), self.net("discriminator")
        with self.autocast():
            fake = generator(self.noise(self.batch, self.latent_dim))
            d_loss = _bce(discriminator(self.real), 1.0) + _bce(discriminator(fake.detach()), 0.0)
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        with frozen(self.networks["discriminator"]):
            with self.autocast():
                g_loss = _bce(discriminator(fake), 1.0)
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        return d_loss, g_loss


class WGANGPStep(_Step):
    """One ``kgan.WGANGP`` train step: ``n_critic`` critic updates with gradient penalty, then one generator update.

    The real batch ``[n_critic * m, C, H, W]`` is split into n_critic
    minibatches of m (kgan's `split_minibatches`). Critic update j: fresh z
    ``[m, latent_dim]``, G(z) without gradients, eps ~ U[0, 1] per example,
    ``x_hat = eps x_j + (1 - eps) G(z)``; loss ``mean D(G(z)) - mean D(x_j) +
    lambda mean((||dD(x_hat)/dx_hat||_2 - 1)^2)``, the norm as kgan's
    (``sqrt(sum g^2 + 1e-12)``), through a double backward
    (``create_graph=True``). Three critic forwards, as kgan's. Generator update:
    fresh z ``[m, latent_dim]``, ``-mean D(G(z))`` with the critic frozen.
    Adam(1e-4, beta_1=0, beta_2=0.9) for both (the paper's, kgan's default).
    """

    def __init__(self, image_shape, minibatch=64, n_critic=5, latent_dim=100, base_filters=64, penalty_weight=10.0, **options):
        super().__init__(**options)
        self.latent_dim, self.minibatch, self.n_critic, self.penalty_weight = latent_dim, minibatch, n_critic, penalty_weight
        self.real = self.images(image_shape, minibatch * n_critic)
        self.images_per_step = minibatch * n_critic
        generator, critic = self.prepare(
            generator=DCGANGenerator(latent_dim, image_shape, base_filters, self.channels_last),
            discriminator=DCGANDiscriminator(image_shape, base_filters, "layer", self.channels_last),
        )
        self.g_optimizer = _adam(generator.parameters(), 1e-4, 0.0, 0.9)
        self.d_optimizer = _adam(critic.parameters(), 1e-4, 0.0, 0.9)

    def step(self):
        generator, critic = self.net("generator"), self.net("discriminator")
        m = self.minibatch
        for j in range(self.n_critic):
            real = self.real[j * m : (j + 1) * m]
            with torch.no_grad(), self.autocast():
                fake = generator(self.noise(m, self.latent_dim))
            epsilon = torch.rand(m, 1, 1, 1, generator=self.generator)
            x_hat = (epsilon * real + (1 - epsilon) * fake.float()).requires_grad_(True)
            with self.autocast():
                real_scores, fake_scores, hat_scores = critic(real), critic(fake), critic(x_hat)
            gradients, = torch.autograd.grad(hat_scores.float().sum(), x_hat, create_graph=True)
            norms = torch.sqrt(gradients.float().square().sum(dim=(1, 2, 3)) + 1e-12)
            penalty = (norms - 1.0).square().mean()
            d_loss = fake_scores.float().mean() - real_scores.float().mean() + self.penalty_weight * penalty
            self.d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_optimizer.step()
        with frozen(self.networks["discriminator"]):
            with self.autocast():
                g_loss = -critic(generator(self.noise(m, self.latent_dim))).float().mean()
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        return d_loss, g_loss


class ImagePool:
    """kgan's `ImagePool` (Shrivastava et al. 2017) in PyTorch: float32 history of ``capacity`` images.

    Per image, in order: stored and returned while the pool is not full; then
    with probability 1/2 swapped with a uniformly chosen stored image (which
    is returned), else returned as it is.
    """

    def __init__(self, capacity, example_shape, generator, memory_format=torch.contiguous_format):
        self.capacity, self.count, self.generator = capacity, 0, generator
        self.images = torch.zeros(capacity, *example_shape).contiguous(memory_format=memory_format)

    def query(self, images):
        images = images.detach().float()
        if self.capacity == 0:
            return images
        coins = torch.rand(len(images), generator=self.generator).tolist()
        slots = torch.rand(len(images), generator=self.generator).tolist()
        outputs = []
        for image, coin, slot in zip(images, coins, slots):
            if self.count < self.capacity:
                self.images[self.count] = image
                self.count += 1
                outputs.append(image)
            elif coin < 0.5:
                slot = min(int(slot * self.capacity), self.capacity - 1)
                outputs.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                outputs.append(image)
        stacked = torch.stack(outputs)
        return stacked.contiguous(memory_format=torch.channels_last) if images.is_contiguous(memory_format=torch.channels_last) else stacked


class CycleGANStep(_Step):
    """One ``kgan.CycleGAN`` train step on an unpaired batch (x, y), each ``[B, C, H, W]``.

    Generator update (G: X -> Y and F: Y -> X, one Adam), D_X and D_Y frozen:
    fake_y = G(x), fake_x = F(y); ``2 * LSGAN_G(D_Y(fake_y)) + 2 *
    LSGAN_G(D_X(fake_x))`` (kgan scales LSGAN's 0.5 E[(D - 1)^2] by 2: the
    paper's weight 1) ``+ lambda (|F(fake_y) - x| + |G(fake_x) - y|)`` and, if
    ``identity`` > 0, ``+ identity * lambda (|G(y) - y| + |F(x) - x|)``: four
    generator forwards (six with identity). Discriminator update (D_X and D_Y,
    one Adam) on ``0.5 E[(D(real) - 1)^2] + 0.5 E[D(pool(fake))^2]`` per
    domain, the fakes of the generator update through the image pools.
    Adam(2e-4, beta_1=0.5) for both pairs.

    Args:
      image_shape: ``(H, W, C)`` of both domains.
      batch: B.
      base_filters, num_downsampling, num_residual_blocks: the generators'.
      discriminator_layers: the PatchGANs' stride-2 layers (same base_filters).
      identity: identity weight relative to lambda (kgan's ``identity_loss_weight``).
      cycle: lambda.
      pool_size: capacity of each pool.
      **options: `_Step`'s.
    """

    def __init__(self, image_shape, batch, base_filters=64, num_downsampling=2, num_residual_blocks=None,
                 discriminator_layers=3, identity=0.5, cycle=10.0, pool_size=50, **options):
        super().__init__(**options)
        self.identity, self.cycle = identity, cycle
        self.x, self.y = self.images(image_shape, batch), self.images(image_shape, batch)
        self.images_per_step = 2 * batch
        norm = "instance" if self.channels_last else "group"
        generator = dict(base_filters=base_filters, num_downsampling=num_downsampling, num_residual_blocks=num_residual_blocks, norm=norm)
        g_xy, g_yx, d_x, d_y = self.prepare(
            generator_xy=ResnetGenerator(image_shape, **generator), generator_yx=ResnetGenerator(image_shape, **generator),
            discriminator_x=PatchDiscriminator(image_shape, base_filters, discriminator_layers, norm),
            discriminator_y=PatchDiscriminator(image_shape, base_filters, discriminator_layers, norm),
        )
        self.g_optimizer = _adam(list(g_xy.parameters()) + list(g_yx.parameters()), 2e-4, 0.5)
        self.d_optimizer = _adam(list(d_x.parameters()) + list(d_y.parameters()), 2e-4, 0.5)
        height, width, channels = image_shape
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.pool_x = ImagePool(pool_size, (channels, height, width), self.generator, memory_format)
        self.pool_y = ImagePool(pool_size, (channels, height, width), self.generator, memory_format)

    def step(self):
        g_xy, g_yx = self.net("generator_xy"), self.net("generator_yx")
        d_x, d_y = self.net("discriminator_x"), self.net("discriminator_y")
        x, y = self.x, self.y
        with frozen(self.networks["discriminator_x"]), frozen(self.networks["discriminator_y"]):
            with self.autocast():
                fake_y, fake_x = g_xy(x), g_yx(y)
                adversarial = (d_y(fake_y) - 1).square().mean() + (d_x(fake_x) - 1).square().mean()
                cycle = (g_yx(fake_y) - x).abs().mean() + (g_xy(fake_x) - y).abs().mean()
                g_loss = adversarial + self.cycle * cycle
                if self.identity:
                    g_loss = g_loss + self.identity * self.cycle * ((g_xy(y) - y).abs().mean() + (g_yx(x) - x).abs().mean())
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        pooled_x, pooled_y = self.pool_x.query(fake_x), self.pool_y.query(fake_y)
        with self.autocast():
            d_loss = (0.5 * (d_x(x) - 1).square().mean() + 0.5 * d_x(pooled_x).square().mean()
                      + 0.5 * (d_y(y) - 1).square().mean() + 0.5 * d_y(pooled_y).square().mean())
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        return d_loss, g_loss


STEPS = {"gan": GANStep, "gan_examples": ExamplesGANStep, "wgan_gp": WGANGPStep, "cycle_gan": CycleGANStep}
