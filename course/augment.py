"""Data augmentation for lecture 07, under the name it imports: the transforms and the explorer.

    course.transforms                  photo_transforms, digit_transform, build_transform, show_gallery,
                                       augment_batch, BatchRandomAffine, AugmentTrainingBatches, ...
    course.widgets.augmentation        AugmentationExplorer (``augmentation_explorer(photos)`` here)
"""
from course.transforms import *  # noqa: F401,F403 (the names lecture 07 reads from course.augment)
from course.transforms import __all__ as _transforms
from course.widgets.augmentation import AugmentationExplorer

__all__ = [*_transforms, "augmentation_explorer"]


def augmentation_explorer(photos: dict, size: int = 192) -> AugmentationExplorer:
    """The augmentation explorer of lecture 07 (``course.widgets.augmentation.AugmentationExplorer``)."""
    return AugmentationExplorer(photos, size)
