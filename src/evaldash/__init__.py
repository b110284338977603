"""evaldash: evaluate classification models from a file of predictions, a DataFrame or arrays."""

# the module evaldash.compare is loaded first, so that the function compare below stays the
# package's attribute (importing a submodule for the first time binds its name on the package)
import evaldash.compare  # noqa: F401  (isort: skip)
from evaldash.api import compare, evaluate, show
from evaldash.dataset import Dataset, load_predictions, dataset_from_frame
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.results import Results

__all__ = [
    "Dataset",
    "Evaluation",
    "InputError",
    "Results",
    "compare",
    "dataset_from_frame",
    "evaluate",
    "load_predictions",
    "show",
]
__version__ = "0.1.0"
