r"""How long `fit` takes to return after its last step, with tf.data's autotuning on and off.

Builds the ``gan`` model of `bench/throughput.py` (DCGAN 28x28, batch 256),
then calls ``fit(steps_per_epoch=--steps)`` ``--calls`` times on the same
in-memory batch, alternating a dataset with autotuning on (tf.data's
default) and one with it off. A callback notes when the last step ended;
the table gives that time and the time `fit` returned, per call. With
autotuning on, the iterator's teardown waits for the autotune thread's
current sleep (its sleeps double from 10 ms), so `fit` returns only at
0.63, 1.27, 2.55, 5.11, ... s of the iterator's life (docs/design.md,
section 7).

Example (about 1 minute on two CPU cores)::

    TF_CPP_MIN_LOG_LEVEL=3 python bench/fit_teardown.py --steps=12 --calls=3

Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="Steps per fit call.")
    parser.add_argument("--calls", type=int, default=3, help="fit calls per setting.")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    import throughput

    entry = throughput.warmed_up_entry("gan", "float32", False, 1.0)
    model = entry["model"]
    datasets = {"autotune on (default)": tf.data.Dataset.from_tensors(entry["batch"]).repeat(), "autotune off": entry["data"]}

    class LastStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.ended = time.perf_counter()

    print("| dataset | call | last step ended (s) | fit returned (s) | wait (s) |\n| --- | --- | --- | --- | --- |")
    for call in range(args.calls):
        for name, data in datasets.items():
            marker, start = LastStep(), time.perf_counter()
            model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0, callbacks=[marker])
            returned = time.perf_counter() - start
            ended = marker.ended - start
            print(f"| {name} | {call + 1} | {ended:.2f} | {returned:.2f} | {returned - ended:.2f} |", flush=True)


if __name__ == "__main__":
    main()
