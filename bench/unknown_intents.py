"""Unknown intents: train BANKING77 without N intents and count how often their test messages
are escalated (they must never be answered with the nearest known intent).

    python -m bench.unknown_intents [--data DIR] [--held-out 10] [--seed 0]
                                    [--encoder onnx-int8]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from intents.build import ENCODERS, BuildOptions, build_classifier
from intents.classifier import BatchedClassifier
from intents.evaluate import holdout_experiment, read_labelled_csv

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"


def main() -> None:
    """Run the experiment and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--held-out", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", choices=ENCODERS, default="onnx-int8")
    args = parser.parse_args()
    train = read_labelled_csv(args.data / "train.csv")
    test = read_labelled_csv(args.data / "test.csv")
    held_out = random.Random(args.seed).sample(sorted(set(train[1])), args.held_out)
    cache = Path(tempfile.mkdtemp(prefix="omnibot-bench-"))

    def build(texts: list[str], labels: list[str]) -> BatchedClassifier:
        return build_classifier(
            texts, labels, cache, BuildOptions(encoder=args.encoder), progress=True
        )

    result = holdout_experiment(build, train, test, held_out)
    print(json.dumps(result.to_dict(), indent=2))


if __name__ == "__main__":
    main()
