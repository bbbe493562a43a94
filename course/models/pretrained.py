"""Pretrained backbones and transfer learning, under the name lecture 10 imports them by.

The code lives in one module per job; this module only gathers their names:

    course.models.backbones   pretrained_backbone, efficientnet_lite0, Backbone, untrained_copy, ...
    course.models.imagenet    imagenet_classes, imagenet_preprocess, top_k, as_backbone_input, ...
    course.models.transfer    head_of, replace_head, freeze_backbone, extract_features, FrozenBatchNorm, ...
    course.data.folders       image_folder, folder_tensors, write_demo_folder (your own photos)
"""
from course.data.folders import folder_tensors, image_folder, write_demo_folder
from course.models.backbones import Backbone, efficientnet_lite0, pretrained_backbone, torchvision_classifiers, untrained_copy
from course.models.imagenet import IMAGENET_MEAN, IMAGENET_STD, as_backbone_input, imagenet_classes, imagenet_preprocess, top_k
from course.models.transfer import FrozenBatchNorm, extract_features, freeze_backbone, head_of, replace_head, trainable_parameters

__all__ = ["Backbone", "pretrained_backbone", "efficientnet_lite0", "imagenet_classes",
           "imagenet_preprocess", "top_k", "head_of", "replace_head", "freeze_backbone",
           "trainable_parameters", "extract_features", "torchvision_classifiers",
           "image_folder", "folder_tensors", "untrained_copy", "as_backbone_input",
           "write_demo_folder", "FrozenBatchNorm", "IMAGENET_MEAN", "IMAGENET_STD"]
