"""Models of the course, by family.

lenet.py       LeNet-5 (1998 and modern), simple_cnn, the CIFAR-10 model of lecture 07
classic.py     small AlexNet-, VGG- and Inception-style networks
resnet.py      configurable ResNet (basic blocks, identity / projection shortcuts)
backbones.py   pretrained_backbone(name): torchvision weights or the offline EfficientNet-Lite0
imagenet.py    ImageNet class names, preprocessing, top-k predictions
transfer.py    classifier heads, freezing, feature extraction, FrozenBatchNorm
pretrained.py  the names of the last three (and course.data.folders) under one roof, for lecture 10
"""
from .classic import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .pretrained import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
