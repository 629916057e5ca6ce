"""The sensors pipeline: one definition, three flows (training, batch, online)."""

from steps import featurize, postprocess, predict, preprocess, train

from contracts import LABEL
from shipml import Pipeline

pipeline = Pipeline(
    "sensors",
    transforms=[preprocess, featurize],
    train=train,
    predict=predict,
    postprocess=postprocess,
    target=LABEL,
)
