"""Stage 6, ``build_dataset``: cross-validation folds, TFRecord/Parquet shards, tf.data readers."""
