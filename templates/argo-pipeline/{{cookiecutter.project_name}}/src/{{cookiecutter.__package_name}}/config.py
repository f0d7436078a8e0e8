"""The defaults every step falls back to; the workflow's parameters default to the same values (see pipeline.py)."""

from __future__ import annotations

PROJECT_NAME = "{{ cookiecutter.project_name }}"
PACKAGE = "{{ cookiecutter.__package_name }}"
{%- if cookiecutter.data_source == 'digits' %}
CHANNELS = 1  # scikit-learn's digits are greyscale
{%- else %}
CHANNELS = 3  # images are converted to RGB
{%- endif %}
{%- if cookiecutter.data_source == 'folder' %}
DATA_DIR = "{{ cookiecutter.data_dir }}"
{%- elif cookiecutter.data_source == 'postgres' %}
DB_TABLE = "{{ cookiecutter.db_table }}"
{%- endif %}

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
