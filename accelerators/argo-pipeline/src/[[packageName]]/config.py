"""The defaults every step falls back to; the workflow's parameters default to the same values (see pipeline.py)."""

from __future__ import annotations

PROJECT_NAME = "[[projectName]]"
PACKAGE = "[[packageName]]"[[if #dataSource == 'digits']]
CHANNELS = 1  # scikit-learn's digits are greyscale[[end #dataSource == 'digits']][[if #dataSource != 'digits']]
CHANNELS = 3  # images are converted to RGB[[end #dataSource != 'digits']][[if #dataSource == 'folder']]
DATA_DIR = "[[dataDir]]"[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]DB_TABLE = "[[dbTable]]"
[[end #dataSource == 'postgres']]
# Data validation: the thresholds below which the pipeline stops before training.
MIN_IMAGES = 100
MAX_CLASS_RATIO = 3.0  # images in the largest class per image in the smallest
MAX_DUPLICATE_PERCENT = 5.0  # images whose content (by hash) appears earlier in the data
MIN_IMAGE_SIZE = 8  # pixels, the shorter side of the smallest stored image

# Training
IMAGE_SIZE = 32
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE = 0.001
CONV_BLOCKS = 2
FILTERS = 32
DROPOUT = 0.25
PATIENCE = 3
SEED = 1234
AUGMENTATION = True

# Where the steps' MLflow runs go inside the cluster (a workflow parameter; a local run uses the local store).
CLUSTER_TRACKING_URI = "http://mlflow.mlflow.svc.cluster.local:5000"
