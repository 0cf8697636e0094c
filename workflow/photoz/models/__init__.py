"""Stages 7-9: the P19 network, training, prediction, ensembles and the kNN baseline."""
