"""paired_translation_errors: model error against true pairs, with identity and constant baselines."""

import numpy as np
import pytest

from kgan.metrics import format_translation_errors, paired_translation_errors
from kgan.metrics import translation as metrics


class Lookup:
    """A 'model' translating each image by a fixed rule, so the errors are known by hand."""

    def __init__(self, x_to_y, y_to_x):
        self.rules = {"x_to_y": x_to_y, "y_to_x": y_to_x}
        self.calls = []

    def translate(self, images, direction):
        self.calls.append(len(images))
        return self.rules[direction](np.asarray(images))


def test_errors_and_baselines_by_hand():
    x = np.full((4, 2, 2, 1), -1.0, np.float32)
    y = np.stack([np.full((2, 2, 1), v, np.float32) for v in (0.0, 0.5, 0.5, 1.0)])
    model = Lookup(lambda images: images + 1.5, lambda images: images * 0)
    results = paired_translation_errors(model, x, y, batch_size=3)
    assert model.calls == [3, 1, 3, 1]  # batched
    assert results["x_to_y"] == pytest.approx(np.mean(np.abs(0.5 - y)))  # G(x) = 0.5 everywhere
    assert results["y_to_x"] == pytest.approx(1.0)  # F(y) = 0 vs x = -1
    assert results["identity"] == pytest.approx(np.mean(np.abs(y + 1)))
    # Best constant for y: the per-pixel median 0.5 -> |0 - .5| + 0 + 0 + |1 - .5| over 4.
    assert results["x_to_y_constant"] == pytest.approx(0.25)
    assert results["y_to_x_constant"] == 0.0 and results["num_pairs"] == 4
    assert "x_to_y" in format_translation_errors(results)


def test_a_perfect_model_scores_zero():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (5, 4, 4, 1)).astype(np.float32)
    y = -x
    results = paired_translation_errors(Lookup(lambda i: -i, lambda i: -i), x, y)
    assert results["x_to_y"] == pytest.approx(0.0, abs=1e-7) and results["y_to_x"] == pytest.approx(0.0, abs=1e-7)


def test_bad_pairs_are_rejected():
    model = Lookup(lambda i: i, lambda i: i)
    with pytest.raises(ValueError, match="same"):
        paired_translation_errors(model, np.zeros((3, 4, 4, 1)), np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        paired_translation_errors(model, np.full((2, 4, 4, 1), 255.0), np.zeros((2, 4, 4, 1)))


# ---------------------------------------------------------------------- footwear_translation_scores


class ClassByBrightness:
    """A 'classifier' of [-1, 1] images: class 5, 7 or 9 by mean brightness; its features are the pixels."""

    def __init__(self):
        import keras

        images = keras.Input((4, 4, 1))
        flat = keras.layers.Flatten(name="features")(images)
        mean = keras.layers.Lambda(lambda f: keras.ops.mean(f, axis=-1, keepdims=True))(flat)
        # Logits over 10 classes that peak at 5 (dark), 7 (middle) or 9 (bright).
        centres = np.full((1, 10), 9.0, np.float32)
        centres[0, [5, 7, 9]] = [-0.8, 0.0, 0.8]
        logits = keras.layers.Lambda(lambda m: -keras.ops.square(m - centres))(mean)
        self.model = keras.Model(images, logits)


def _footwear_fixture(n=8):
    rng = np.random.default_rng(0)
    levels = np.array([-0.8, 0.0, 0.8])
    classes = np.array([5, 7, 9])[np.arange(n) % 3]
    images = (levels[np.arange(n) % 3][:, None, None, None] + rng.uniform(-0.05, 0.05, (n, 4, 4, 1))).astype(np.float32)
    edges = np.where(rng.uniform(size=(n, 4, 4, 1)) > 0.7, 1.0, -1.0).astype(np.float32)
    return edges, images, classes


def test_footwear_scores_of_a_perfect_translator():
    edges, images, classes = _footwear_fixture()
    scores = metrics.footwear_translation_scores(
        edges, images, classes, ClassByBrightness().model,
        edges_to_images=lambda batch: images[: len(batch)],
        images_to_edges=lambda batch: edges[: len(batch)], batch_size=8,
    )
    assert scores["edges_to_images/l1"] == pytest.approx(0.0, abs=1e-7)
    assert scores["edges_to_images/class_kept"] == scores["edges_to_images/class_kept_real"] == 1.0
    assert scores["images_to_edges/l1"] == pytest.approx(0.0, abs=1e-7) and scores["images_to_edges/edge_f1"] == 1.0
    assert scores["edges_to_images/l1_constant"] > 0.3 and scores["num_pairs"] == 8
    assert "class kept" in metrics.format_footwear_scores(scores)


def test_footwear_scores_see_the_wrong_class_and_the_wrong_distribution():
    edges, images, classes = _footwear_fixture(12)
    # Every translation is the middle class: L1 may look fine, the class and the distribution do not.
    scores = metrics.footwear_translation_scores(
        edges, images, classes, ClassByBrightness().model, edges_to_images=lambda batch: np.zeros_like(batch),
    )
    assert scores["edges_to_images/class_kept"] == pytest.approx(1 / 3)
    assert scores["edges_to_images/fid"] > 10 * max(scores["edges_to_images/fid_floor"], 1e-3)
    assert not any(key.startswith("images_to_edges/") for key in scores)
    assert "image -> edges" not in metrics.format_footwear_scores(scores)


def test_edge_f1_by_hand():
    true = np.array([1, 1, -1, -1], np.float32).reshape(1, 2, 2, 1)
    predicted = np.array([1, -1, 1, -1], np.float32).reshape(1, 2, 2, 1)
    assert metrics.edge_f1(predicted, true) == pytest.approx(2 * 1 / (2 * 1 + 2))  # TP 1, FP 1, FN 1
    assert metrics.edge_f1(-np.ones_like(true), -np.ones_like(true)) == 1.0


def test_footwear_scores_refuse_bad_input():
    edges, images, classes = _footwear_fixture()
    classifier = ClassByBrightness().model
    with pytest.raises(ValueError, match="classes"):
        metrics.footwear_translation_scores(edges, images, classes[:3], classifier, images_to_edges=lambda b: b)
    with pytest.raises(ValueError, match="Pass"):
        metrics.footwear_translation_scores(edges, images, classes, classifier)
    with pytest.raises(ValueError, match="4 pairs"):
        metrics.footwear_translation_scores(edges[:2], images[:2], classes[:2], classifier, images_to_edges=lambda b: b)


# ---------------------------------------------------------------------- cached judges


def test_judges_are_cached_by_their_data_and_settings(tmp_path, monkeypatch):
    from kgan.data.ranges import to_model_range
    from kgan.metrics import attribute_translation as judges

    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path))
    built = []
    build = judges.build_classifier
    monkeypatch.setattr(judges, "build_classifier", lambda *a, **k: built.append(a) or build(*a, **k))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8)
    attributes = rng.integers(0, 2, (32, 2)).astype(np.float32)
    first = judges.train_attribute_classifier(images, attributes, epochs=1)
    again = judges.train_attribute_classifier(images, attributes, epochs=1)
    assert len(built) == 1  # The second call loaded the first's judge ...
    x = to_model_range(images[:4])
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(first(x)), atol=1e-6)  # ... the same weights.
    judges.train_attribute_classifier(images, 1 - attributes, epochs=1)  # Other labels,
    judges.train_attribute_classifier(images, attributes, epochs=2)  # other settings,
    judges.train_content_classifier(images, attributes[:, 0].astype(int), num_classes=2, epochs=1)  # another kind,
    judges.train_attribute_classifier(images, attributes, epochs=1, cache=False)  # or no cache: trained anew.
    assert len(built) == 5
    assert len(list((tmp_path / "judges").glob("*.keras"))) == 4


# ---------------------------------------------------------------------- translation_scores against the truth
class Translator:
    """A StarGAN stand-in: ``translate(images, targets)`` by a fixed rule."""

    def __init__(self, rule):
        self.rule = rule

    def translate(self, images, targets):
        return self.rule(np.asarray(images), np.asarray(targets))


class Judge:
    """A classifier stand-in: ``predict`` returns fixed logits, so every verdict is known."""

    def __init__(self, logits):
        self.logits = logits

    def predict(self, images, verbose=0, batch_size=None):
        return np.broadcast_to(self.logits, (len(images), len(self.logits)))


def test_the_distance_to_the_perfect_translation_is_reported_beside_a_fooled_judge():
    from kgan.metrics import format_translation_scores, translation_scores

    x = np.full((2, 2, 2, 1), -1.0, np.float32)
    perfect = np.stack([np.full((2, 2, 1), v, np.float32) for v in (1.0, 0.0)])
    targets = np.array([[1.0], [1.0]], np.float32)
    # The judge says every image has the attribute, so the do-nothing translator "meets" every target.
    scores = translation_scores(Translator(lambda i, t: i + 0.5), x, np.array([0, 0]), targets, Judge(np.array([5.0])),
                                Judge(np.array([3.0, 0.0])), perfect=perfect)
    assert scores["target_attribute_accuracy"] == 1.0
    assert scores["perfect_l1"] == pytest.approx((1.5 + 0.5) / 2)  # |-0.5 - 1| and |-0.5 - 0|
    assert scores["perfect_l1_baseline"] == pytest.approx((2.0 + 1.0) / 2)
    assert "L1 to the perfect translation" in format_translation_scores(scores)
    assert "perfect_l1" not in translation_scores(Translator(lambda i, t: i), x, np.array([0, 0]), targets,
                                                  Judge(np.array([5.0])), Judge(np.array([3.0, 0.0])))
    with pytest.raises(ValueError, match="one translation per image"):
        translation_scores(Translator(lambda i, t: i), x, np.array([0, 0]), targets, Judge(np.array([5.0])),
                           Judge(np.array([3.0, 0.0])), perfect=perfect[:1])


def test_the_tinted_demos_perfect_translation_renders_the_gray_source_with_the_targets():
    from kgan.data import attributes

    images, labels, _ = attributes.tinted_arrays("tinted_fashion_mnist", "test")
    np.testing.assert_array_equal(attributes.tinted_perfect_translations(labels, "tinted_fashion_mnist", "test"), images)
    flipped = labels.copy()
    flipped[:, 3] = 1 - flipped[:, 3]
    inverted = attributes.tinted_perfect_translations(flipped, "tinted_fashion_mnist", "test")
    colour = labels[0, :3].argmax()
    assert int(inverted[0, ..., colour].astype(int).max()) > 0
    np.testing.assert_array_equal(inverted[0, ..., colour].astype(int), 255 - images[0, ..., colour].astype(int))
    with pytest.raises(ValueError, match="target rows"):
        attributes.tinted_perfect_translations(labels[:3], "tinted_fashion_mnist", "test")


def test_the_two_dataset_demos_perfect_translation_renders_the_gray_source_in_the_targets_group():
    from kgan import label_groups
    from kgan.data import attributes

    name = "tinted_shaded_fashion_mnist"
    images, labels, _, groups = attributes.tinted_shaded_arrays(name, "test")
    # Its own labels: every image, tinted and shaded, is its own perfect translation.
    own = attributes.tinted_shaded_perfect_translations(labels, name, "test")
    assert set(groups) == {0, 1} and own.dtype == np.uint8
    np.testing.assert_array_equal(own, images)
    # The other dataset's labels: tinted images become gray at `bright`, shaded ones red and not inverted.
    unified = attributes.TINTED_SHADED_GROUPS
    bright = label_groups.unify_labels(np.tile([0, 0, 1], (len(labels), 1)), 1, unified)
    red = label_groups.unify_labels(np.tile([1, 0, 0, 0], (len(labels), 1)), 0, unified)
    crossed = attributes.tinted_shaded_perfect_translations(np.where(groups[:, None] == 0, bright, red), name, "test")
    # A plain tinted image's own colour channel is its gray source (gain 1), as is a bright shaded image.
    tints = labels[:, :3].argmax(-1)
    plain = np.flatnonzero((groups == 0) & (labels[:, 3] == 0))
    gray = images[plain, ..., tints[plain]][..., None]
    np.testing.assert_array_equal(crossed[plain], np.repeat(gray, 3, axis=-1))
    shown = np.flatnonzero((groups == 1) & (labels[:, 6] == 1))
    assert len(plain) > 100 and len(shown) > 100
    np.testing.assert_array_equal(crossed[shown], attributes.render_attributes(images[shown, ..., :1], red[shown, :4]))
    assert crossed[shown, ..., 0].mean() > crossed[shown, ..., 1].mean() + 20  # Red now, no longer gray.


def test_the_two_dataset_demos_perfect_translation_refuses_bad_targets():
    from kgan.data import attributes

    name = "tinted_shaded_fashion_mnist"
    _, labels, _, _ = attributes.tinted_shaded_arrays(name, "test")
    with pytest.raises(ValueError, match="has 1000 images; got 3 target rows"):
        attributes.tinted_shaded_perfect_translations(labels[:3], name, "test")
    with pytest.raises(ValueError, match=r"unified labels \[N, 9\]"):
        attributes.tinted_shaded_perfect_translations(labels[:, :4], name, "test")
    with pytest.raises(ValueError, match=r"0/1; got \[0.5\]"):
        attributes.tinted_shaded_perfect_translations(labels * 0.5, name, "test")
    no_mask = labels.copy()
    no_mask[7, 7:] = 0
    with pytest.raises(ValueError, match="mask .* must be one-hot.*row 7"):
        attributes.tinted_shaded_perfect_translations(no_mask, name, "test")
    two_levels = labels.copy()
    two_levels[600, 4:7] = [1, 1, 0]
    with pytest.raises(ValueError, match="row 600: label group 1 is single_label"):
        attributes.tinted_shaded_perfect_translations(two_levels, name, "test")
    with pytest.raises(ValueError, match="Unknown two-dataset demo"):
        attributes.tinted_shaded_perfect_translations(labels, "tinted_fashion_mnist", "test")


def test_grouped_scores_report_the_distance_to_the_perfect_translation_per_target_group():
    from kgan.metrics import format_grouped_translation_scores, grouped_translation_scores

    groups = ((1, "multi_label"), (2, "single_label"))  # Unified rows: [a, d0, d1, mask0, mask1].
    labels = np.array([[1, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1], [0, 1, 0, 0, 1]], np.float32)
    targets = np.array([[0, 0, 0, 1, 0], [0, 1, 0, 0, 1], [1, 0, 0, 1, 0], [0, 0, 1, 0, 1]], np.float32)
    # Rows 1 and 2 cross datasets. The translator paints 0 for group-0 targets and 0.5 for group-1 targets.
    x = np.broadcast_to(np.array([-1.0, -0.5, -0.25, 0.0], np.float32)[:, None, None, None], (4, 2, 2, 1))
    model = Translator(lambda i, t: np.broadcast_to((0.5 * t[:, -1])[:, None, None, None], i.shape))
    translated = model.translate(x, targets)
    distance = [1.0, 1.0, 0.25, 0.5]  # |x - translated| per row

    def scores(perfect):
        return grouped_translation_scores(model, x, labels, np.zeros(4, int), targets, groups,
                                          [Judge(np.zeros(1)), Judge(np.array([1.0, 0.0]))], Judge(np.array([3.0, 0.0])),
                                          group_names=["a", "d"], perfect=perfect)

    expected = {"perfect_l1": np.mean(distance), "perfect_l1/a": np.mean(distance[0::2]), "perfect_l1/a_cross": distance[2],
                "perfect_l1/d": np.mean(distance[1::2]), "perfect_l1/d_cross": distance[1]}
    truth_is_translated, truth_is_input = scores(translated), scores(x)
    for key, value in expected.items():
        assert truth_is_translated[key] == pytest.approx(0.0, abs=1e-7), key
        assert truth_is_translated[key + "_baseline"] == pytest.approx(value), key
        assert truth_is_input[key] == pytest.approx(value), key
        assert truth_is_input[key + "_baseline"] == pytest.approx(0.0, abs=1e-7), key
    table = format_grouped_translation_scores(truth_is_input, ["a", "d"])
    assert "d targets, L1 to perfect, other dataset" in table and "L1 to the perfect translation, all targets" in table
    row = next(line for line in table.splitlines() if line.startswith("a targets, L1 to perfect "))
    assert row.split()[-2:] == ["0.625", "0.000"]  # Group a's targets: translations 1.0 and 0.25 away, inputs the truth.
    # Without the truth: no L1 keys, no L1 rows; a wrong-shaped truth is refused.
    plain = scores(None)
    assert not any(key.startswith("perfect_l1") for key in plain)
    assert "L1" not in format_grouped_translation_scores(plain, ["a", "d"])
    with pytest.raises(ValueError, match="one translation per image"):
        scores(x[:3])
