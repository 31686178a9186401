"""Floor 6: reference architectures built only from `nn`, one readable file each."""
from .autoencoder import Autoencoder, contractive_penalty, contractive_penalty_sigmoid
from .char_rnn import CharLSTM, CharLSTMConfig, StreamingCharLSTM
from .gpt import GPT, FlatLogitsGPT, GPTConfig
from .lenet import LeNet5
from .mlp import MLP
from .resnet import (
    BasicBlock,
    Bottleneck,
    CifarResNet,
    ResNet,
    cifar_plain_net,
    cifar_resnet,
    resnet18,
    resnet34,
    resnet50,
)
from .semisupervised import SemiSupervisedLoss, SemiSupervisedVAE
from .seq2seq import AdditiveAttention, DotAttention, Seq2Seq, Seq2SeqConfig
from .vae import VAE, ConvVAE, kl_weight

__all__ = ["MLP", "LeNet5", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34",
           "resnet50", "CifarResNet", "cifar_resnet", "cifar_plain_net", "GPT", "GPTConfig",
           "Seq2Seq", "Seq2SeqConfig", "AdditiveAttention", "DotAttention",
           "CharLSTM", "CharLSTMConfig", "StreamingCharLSTM", "FlatLogitsGPT",
           "Autoencoder", "contractive_penalty", "contractive_penalty_sigmoid",
           "VAE", "ConvVAE", "kl_weight", "SemiSupervisedVAE", "SemiSupervisedLoss"]
