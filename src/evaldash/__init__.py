"""evaldash: evaluate classification models from a file of predictions."""

from evaldash.dataset import Dataset, load_predictions, dataset_from_frame
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation, evaluate

__all__ = [
    "Dataset",
    "Evaluation",
    "InputError",
    "dataset_from_frame",
    "evaluate",
    "load_predictions",
]
__version__ = "0.1.0"
