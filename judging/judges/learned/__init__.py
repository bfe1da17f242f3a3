"""The learned judge: TF-IDF features and calibrated logistic regressions trained on labelled
replies (the seed corpus in seed/ and the competition's human labels). model.py is the learning,
evaluation.py the cross-validation, runner.py the judge kind, training.py the training runs that
make new judge versions."""

from judging.judges.learned.runner import LearnedJudge

__all__ = ["LearnedJudge"]
