"""Part 2: digit classifiers built on the encoder.

- :mod:`.classify`: classifiers on the (pretrained) encoder, trained on all labels, and the choice among them;
- :mod:`.label_efficiency`: the same with few to all labels, pretrained against from scratch;
- :mod:`.semisupervised`: FixMatch with few labels and the unlabelled rest;
- :mod:`.errors`: a classifier's most frequent confusions, and the images that show one.
"""
