"""Datasets as tensors, real loaders with embedded offline defaults (see sources.py)."""
from course.data.dataset import Dataset, stratified_indices
from course.data.fetching import DatasetUnavailable
from course.data.sources import cifar10, digits, download, fashion_mnist, load, mnist, sample_photos, status

__all__ = ["Dataset", "DatasetUnavailable", "cifar10", "digits", "download", "fashion_mnist", "load",
           "mnist", "sample_photos", "status", "stratified_indices"]
