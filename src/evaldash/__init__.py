"""evaldash: evaluate classification models from a file of predictions, a DataFrame or arrays."""

from evaldash.api import evaluate
from evaldash.dataset import Dataset, load_predictions, dataset_from_frame
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.results import Results

__all__ = [
    "Dataset",
    "Evaluation",
    "InputError",
    "Results",
    "dataset_from_frame",
    "evaluate",
    "load_predictions",
]
__version__ = "0.1.0"
