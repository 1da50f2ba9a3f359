"""Small equivalents of real architectures, written the way their authors write them (torchvision's code style),
for the importers' tests: torchvision itself cannot be imported against the CPU torch here."""

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: two 3×3 convolutions with batch norm, and a downsampling shortcut."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu2(out + identity)


class TinyResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, stride=2), BasicBlock(32, 32))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class SqueezeExcitation(nn.Module):
    """torchvision's SqueezeExcitation: a gate per channel from the pooled image (Sigmoid, or MobileNetV3's
    Hardsigmoid)."""

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


class InvertedResidual(nn.Module):
    def __init__(self, channels=16, expanded=48):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(channels, expanded, 1, bias=False), nn.BatchNorm2d(expanded), nn.Hardswish(),
            nn.Conv2d(expanded, expanded, 3, padding=1, groups=expanded, bias=False), nn.BatchNorm2d(expanded),
            nn.Hardswish(), SqueezeExcitation(expanded, 16, scale_activation=nn.Hardsigmoid),
            nn.Conv2d(expanded, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        return self.block(x) + x


class MobileNetish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.Hardswish())
        self.blocks = nn.Sequential(InvertedResidual(), InvertedResidual())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(16, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        return self.classifier(torch.flatten(x, 1))


class DenseLayer(nn.Module):
    def __init__(self, channels, growth):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(channels, growth, 3, padding=1, bias=False)

    def forward(self, features):
        return self.conv(self.relu(self.norm(features)))


class DenseNetish(nn.Module):
    """A dense block: each layer reads the concatenation of every earlier output."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.layer1 = DenseLayer(8, 4)
        self.layer2 = DenseLayer(12, 4)
        self.layer3 = DenseLayer(16, 4)
        self.fc = nn.Linear(20, classes)

    def forward(self, x):
        x0 = self.stem(x)
        x1 = self.layer1(x0)
        x2 = self.layer2(torch.cat([x0, x1], 1))
        x3 = self.layer3(torch.cat([x0, x1, x2], 1))
        out = F.adaptive_avg_pool2d(F.relu(torch.cat([x0, x1, x2, x3], 1)), (1, 1))
        return self.fc(torch.flatten(out, 1))


class Conv2dNormActivation(nn.Sequential):
    """torchvision's convolution, batch norm and activation (none for a projection)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, activation_layer=nn.SiLU):
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                            bias=False), nn.BatchNorm2d(out_channels)]
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)


def stochastic_depth(input, p, mode, training=True):
    """torchvision.ops.stochastic_depth: drops whole residual branches while training, nothing in eval."""
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    return input * noise.div_(survival_rate)


class StochasticDepth(nn.Module):
    def __init__(self, p, mode):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)


class MBConv(nn.Module):
    """torchvision's EfficientNet block: 1×1 expansion, depthwise convolution, squeeze-excitation, 1×1
    projection, and a residual (through stochastic depth) when the shape is kept."""

    def __init__(self, input_channels, out_channels, expand_ratio, kernel, stride, stochastic_depth_prob):
        super().__init__()
        self.use_res_connect = stride == 1 and input_channels == out_channels
        layers = []
        expanded_channels = input_channels * expand_ratio
        if expanded_channels != input_channels:
            layers.append(Conv2dNormActivation(input_channels, expanded_channels, kernel_size=1))
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels, kernel_size=kernel, stride=stride,
                                           groups=expanded_channels))
        squeeze_channels = max(1, input_channels // 4)
        layers.append(SqueezeExcitation(expanded_channels, squeeze_channels, activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded_channels, out_channels, kernel_size=1, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class TinyEfficientNet(nn.Module):
    """torchvision's EfficientNet-B0, small: a stem, MBConv stages, a 1×1 head convolution, then pool, dropout,
    linear."""

    def __init__(self, classes=10, stochastic_depth_prob=0.2):
        super().__init__()
        settings = [(8, 8, 1, 3, 1), (8, 16, 4, 3, 2), (16, 16, 4, 5, 1)]  # in, out, expansion, kernel, stride
        blocks = [MBConv(*setting, stochastic_depth_prob * i / len(settings)) for i, setting in enumerate(settings)]
        self.features = nn.Sequential(Conv2dNormActivation(3, 8, stride=2), *blocks,
                                      Conv2dNormActivation(16, 32, kernel_size=1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(32, classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class EncoderBlock(nn.Module):
    """torchvision's ViT EncoderBlock: pre-norm attention and MLP, each with a residual."""

    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp, dim), nn.Dropout(0.0))

    def forward(self, input):
        torch._assert(input.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x)
        x = x + input
        y = self.mlp(self.ln_2(x))
        return x + y


class TinyViT(nn.Module):
    """torchvision's VisionTransformer, small: patchify, class token, positional embedding, encoder, head."""

    def __init__(self, image=16, patch=4, dim=32, classes=10):
        super().__init__()
        self.patch, self.dim = patch, dim
        self.conv_proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        tokens = (image // patch) ** 2 + 1
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, dim).normal_(std=0.02))
        self.layers = nn.Sequential(EncoderBlock(dim, 4, 64), EncoderBlock(dim, 4, 64))
        self.ln = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x)
        x = x.reshape(n, self.dim, -1)
        x = x.permute(0, 2, 1)
        batch_class_token = self.class_token.expand(n, -1, -1)
        x = torch.cat([batch_class_token, x], dim=1)
        x = x + self.pos_embedding
        x = self.ln(self.layers(x))
        return self.head(x[:, 0])


class LSTMClassifier(nn.Module):
    def __init__(self, features=12, hidden=24, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(h[-1])


class GRUClassifier(nn.Module):
    """A bidirectional GRU read at its last step."""

    def __init__(self, features=12, hidden=16, classes=5):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


class Bottleneck(nn.Module):
    """torchvision's ResNet-50 Bottleneck: 1×1 reduction, 3×3, 1×1 expansion (×4), and a downsampling shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.relu3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * self.expansion:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * self.expansion, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * self.expansion))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu3(out + identity)


class TinyResNet50(nn.Module):
    """torchvision's ResNet-50, small: Bottleneck stages, the first widening, the second also downsampling."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(Bottleneck(16, 8), Bottleneck(32, 8))
        self.layer2 = nn.Sequential(Bottleneck(32, 16, stride=2), Bottleneck(64, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class TinyVGG(nn.Module):
    """torchvision's VGG, small: 3×3 convolution and ReLU stacks with max pooling, an adaptive average pool,
    flatten, and a classifier with dropout."""

    def __init__(self, classes=10, cfg=(8, "M", 16, 16, "M")):
        super().__init__()
        layers, channels = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(16 * 2 * 2, 32), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(p=0.5), nn.Linear(32, classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)
        return self.classifier(x)


class Fire(nn.Module):
    """torchvision's SqueezeNet Fire module: a 1×1 squeeze, then 1×1 and 3×3 expansions concatenated."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class TinySqueezeNet(nn.Module):
    """torchvision's SqueezeNet 1.1, small: Fire modules between max pools, and a 1×1 convolution classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2), Fire(16, 4, 8, 8), Fire(16, 4, 8, 8))
        self.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Conv2d(16, classes, kernel_size=1),
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        x = self.classifier(self.features(x))
        return torch.flatten(x, 1)


def channel_shuffle(x, groups):
    """torchvision's ShuffleNetV2 channel shuffle: interleaves the channels of `groups` groups."""
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, -1, height, width)
    return x


class ShuffleUnit(nn.Module):
    """torchvision's ShuffleNetV2 InvertedResidual: half the channels pass (or a downsampling branch), the other
    half go through 1×1, depthwise 3×3, 1×1; then concatenated and shuffled."""

    def __init__(self, inp, oup, stride):
        super().__init__()
        self.stride = stride
        branch_features = oup // 2
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, bias=False), nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if self.stride > 1 else branch_features, branch_features, 1, bias=False),
            nn.BatchNorm2d(branch_features), nn.ReLU(inplace=True),
            nn.Conv2d(branch_features, branch_features, 3, stride, 1, groups=branch_features, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, bias=False), nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True))

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class TinyShuffleNetV2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stage2 = nn.Sequential(ShuffleUnit(8, 16, 2), ShuffleUnit(16, 16, 1))
        self.conv5 = nn.Sequential(nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.conv5(self.stage2(self.maxpool(self.conv1(x))))
        x = x.mean([2, 3])  # global pool
        return self.fc(x)


class Permute(nn.Module):
    """torchvision.ops.Permute."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class CNBlock(nn.Module):
    """torchvision's ConvNeXt block: depthwise 7×7, channels-last LayerNorm, a 4× MLP with GELU, a learned
    layer scale, and a residual through stochastic depth."""

    def __init__(self, dim, layer_scale=1e-6, stochastic_depth_prob=0.1):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input):
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class TinyConvNeXt(nn.Module):
    """torchvision's ConvNeXt, small: a patchify stem, CNBlocks, pool, then LayerNorm2d, flatten, linear."""

    def __init__(self, classes=10, dim=16):
        super().__init__()
        self.features = nn.Sequential(nn.Sequential(nn.Conv2d(3, dim, kernel_size=4, stride=4)),
                                      CNBlock(dim, layer_scale=0.5), CNBlock(dim, layer_scale=0.5))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(1), nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x)


class BasicConv2d(nn.Module):
    """torchvision's GoogLeNet convolution: no bias, batch norm (eps 0.001), ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """torchvision's GoogLeNet Inception block: 1×1, 1×1→3×3, 1×1→3×3 and padded 3×3 max pool→1×1 branches,
    concatenated."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        outputs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(outputs, 1)


class TinyGoogLeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = BasicConv2d(3, 16, kernel_size=3, stride=2, padding=1)
        self.inception3a = Inception(16, 8, 8, 16, 4, 8, 8)
        self.inception3b = Inception(40, 16, 8, 16, 4, 8, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        x = self.inception3b(self.inception3a(self.conv1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


class PositionScale(nn.Module):
    """A learned scale per position of an image, not per channel: no LayerScale."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1, 4, 4))

    def forward(self, x):
        return x * self.scale


ZOO = {  # name -> (factory, input shape)
    "resnet": (TinyResNet, [3, 16, 16]),
    "mobilenet": (MobileNetish, [3, 16, 16]),
    "densenet": (DenseNetish, [3, 8, 8]),
    "efficientnet": (TinyEfficientNet, [3, 16, 16]),
    "vit": (TinyViT, [3, 16, 16]),
    "lstm": (LSTMClassifier, [10, 12]),
    "gru": (GRUClassifier, [10, 12]),
    "resnet50": (TinyResNet50, [3, 32, 32]),
    "vgg": (TinyVGG, [3, 16, 16]),
    "squeezenet": (TinySqueezeNet, [3, 32, 32]),
    "googlenet": (TinyGoogLeNet, [3, 16, 16]),
    "shufflenet": (TinyShuffleNetV2, [3, 32, 32]),  # channel_shuffle's view, transpose, view: a ChannelShuffle
    "convnext": (TinyConvNeXt, [3, 32, 32]),  # layer scale, a learned (C, 1, 1) tensor multiplied in: a LayerScale
}
