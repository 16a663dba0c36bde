"""Label groups: several datasets' label sets in one label vector (StarGAN's mask vector).

"StarGAN: Unified Generative Adversarial Networks for Multi-Domain
Image-to-Image Translation", Choi et al. 2018, sec. 3.2 "Training with
Multiple Datasets": datasets i = 1..n label their images with different label
sets (CelebA: attributes; RaFD: expressions). One generator trains on all of
them with the *unified* label vector

    c~ = [c_1, ..., c_n, m]

where ``c_i`` is dataset i's label vector (zeros where unknown) and ``m`` an
n-dim one-hot mask saying which dataset's labels are known. A label group is
one ``c_i``: its size and its kind (``"multi_label"``: independent 0/1
attributes; ``"single_label"``: one-hot domains). ``label_groups`` is the
tuple of ``(size, kind)`` pairs in the order of ``c~``; the unified vector has
``sum(size) + n`` entries and the discriminator's domain head ``sum(size)``
logits (the mask is input only).

Plain NumPy and Python, so the data, the losses and the model read one
definition.
"""

from __future__ import annotations

import numpy as np

LABEL_KINDS = ("multi_label", "single_label")


def normalize_label_groups(label_groups) -> tuple | None:
    """``label_groups`` as a tuple of ``(size int, kind str)`` pairs, or None for one label set.

    Accepts any sequence of pairs (JSON gives lists). Raises ValueError
    unless there are at least two groups, each of size >= 1 (>= 2 for
    ``single_label``: one domain is no choice) and a kind of `LABEL_KINDS`.
    """
    if label_groups is None:
        return None
    try:
        groups = tuple((size, kind) for size, kind in label_groups)
    except (TypeError, ValueError):
        raise ValueError(
            f"label_groups must be (size, kind) pairs, e.g. ((4, 'multi_label'), (3, 'single_label')); got {label_groups!r}."
        ) from None
    if len(groups) < 2:
        raise ValueError(f"label_groups needs two or more groups (one label set: leave it None); got {len(groups)}.")
    normalized = []
    for index, (size, kind) in enumerate(groups):
        if kind not in LABEL_KINDS:
            raise ValueError(f"label group {index}: kind must be one of {LABEL_KINDS}; got {kind!r}.")
        if isinstance(size, bool) or int(size) != size or int(size) < (2 if kind == "single_label" else 1):
            raise ValueError(f"label group {index}: size must be an int >= 1 (>= 2 for single_label); got {size!r}.")
        normalized.append((int(size), kind))
    return tuple(normalized)


def logit_size(label_groups) -> int:
    """Entries of every group's labels together: the discriminator's domain logits."""
    return sum(size for size, _ in label_groups)


def unified_size(label_groups) -> int:
    """Length of the unified label vector c~: every group's labels, then the n mask entries."""
    return logit_size(label_groups) + len(label_groups)


def group_bounds(label_groups) -> list:
    """``[(start, stop), ...]``: where each group's labels sit in c~ (and in the domain logits)."""
    bounds, start = [], 0
    for size, _ in label_groups:
        bounds.append((start, start + size))
        start += size
    return bounds


def unify_labels(labels, group: int, label_groups) -> np.ndarray:
    """Unified label vectors for examples of one dataset.

    Args:
      labels: 0/1 ``[N, size]`` of group ``group``.
      group: the group (dataset) index the labels belong to.
      label_groups: normalised groups (`normalize_label_groups`).

    Returns:
      float32 ``[N, unified_size]``: ``labels`` in the group's place, zeros
      in the other groups' places, the mask one-hot on ``group``.
    """
    labels = np.asarray(labels, np.float32)
    start, stop = group_bounds(label_groups)[group]
    if labels.ndim != 2 or labels.shape[-1] != stop - start:
        raise ValueError(f"label group {group} has {stop - start} entries; got labels of shape {labels.shape}.")
    unified = np.zeros((len(labels), unified_size(label_groups)), np.float32)
    unified[:, start:stop] = labels
    unified[:, logit_size(label_groups) + group] = 1.0
    return unified


def check_unified_labels(values, label_groups) -> None:
    """Raises ValueError unless every row of 0/1 ``values`` is a valid unified label vector.

    The mask (the last n entries) is one-hot; the group it names holds valid
    labels of its kind (one-hot for ``single_label``); every other group is
    all zeros (unknown). Shapes and 0/1 values are the caller's check.
    """
    values = np.asarray(values)
    offset = logit_size(label_groups)
    masks = values[:, offset:]
    bad = np.flatnonzero(masks.sum(axis=-1) != 1)
    if len(bad):
        raise ValueError(
            f"the mask (the last {len(label_groups)} entries of each label row) must be one-hot, naming the one group "
            f"whose labels are known; row {bad[0]} has mask {masks[bad[0]].tolist()}."
        )
    known = masks.argmax(axis=-1)
    for index, ((start, stop), (_, kind)) in enumerate(zip(group_bounds(label_groups), label_groups)):
        part = values[:, start:stop]
        unknown_set = np.flatnonzero((known != index) & (part.sum(axis=-1) != 0))
        if len(unknown_set):
            raise ValueError(
                f"row {unknown_set[0]}: label group {index} is unknown there (mask {masks[unknown_set[0]].tolist()}), so its "
                f"entries must be zeros; got {part[unknown_set[0]].tolist()}."
            )
        not_one_hot = np.flatnonzero((known == index) & (part.sum(axis=-1) != 1))
        if kind == "single_label" and len(not_one_hot):
            raise ValueError(
                f"row {not_one_hot[0]}: label group {index} is single_label, so its entries must be one-hot; "
                f"got {part[not_one_hot[0]].tolist()}."
            )
