"""Training steps of recurrent sequence classifiers with Adam: a 1-layer LSTM or GRU reads
the sequence (batch_first), a Linear head reads its output at the last step, cross-entropy
over 10 classes. The same module code runs on both sides (`lib` nnlab or torch); the nnlab
model's initial state_dict is loaded into both (see `ModelTraining`)."""
from ..registry import register
from .cnn import ModelTraining


def sequence_classifier(lib, cell, input_size, hidden_size, num_classes):
    """lib.nn.{cell}(input_size, hidden_size, batch_first=True) then Linear(hidden_size,
    num_classes) on the last step: (B, T, input_size) -> (B, num_classes)."""

    class SequenceClassifier(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(lib.nn, cell)(input_size, hidden_size, batch_first=True)
            self.head = lib.nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            output, _ = self.rnn(x)                   # (B, T, H)
            return self.head(output[:, -1])           # (B, H) -> (B, num_classes)

    return SequenceClassifier()


class RecurrentTraining(ModelTraining):
    """`cell` over (32, 64, 64) sequences, hidden 256 (small: (4, 5, 6), hidden 8)."""

    cell = ""

    @property
    def sizes(self):
        return (4, 5, 6, 8) if self.small else (32, 64, 64, 256)   # batch, T, input, hidden

    def input_shape(self):
        return self.sizes[:3]

    def _model(self, lib):
        _, _, input_size, hidden_size = self.sizes
        return sequence_classifier(lib, self.cell, input_size, hidden_size, self.num_classes)

    def nnlab_model(self):
        import nnlab
        return self._model(nnlab)

    def torch_model(self, torch):
        return self._model(torch)


@register
class LSTMTraining(RecurrentTraining):
    name = "lstm-64-256-seq64-b32"
    description = ("LSTM(64, 256), 1 layer, batch_first, on (32, 64, 64); Linear head on the "
                   "last step, cross-entropy (10 classes), Adam step")
    target = 1.2
    cell = "LSTM"


@register
class GRUTraining(RecurrentTraining):
    name = "gru-64-256-seq64-b32"
    description = ("GRU(64, 256), 1 layer, batch_first, on (32, 64, 64); Linear head on the "
                   "last step, cross-entropy (10 classes), Adam step")
    target = 1.2
    cell = "GRU"
