"""The graph core, in plain Python with no Django: schema, layer registry, validation with shape inference,
compilation to a torch.nn.Module, and code export. The web app, the workers, the CLI and the tests all
call these same functions.
"""

from .codegen import GraphInvalid, compile_graph, generate_source
from .errors import ErrorCode, GraphError
from .layers import LAYERS, registry_document
from .limits import Limits, check_size
from .schema import CURRENT_VERSION, parse_json, published_schema, upgrade
from .validate import Analysis, analyze

__all__ = ["LAYERS", "CURRENT_VERSION", "Analysis", "ErrorCode", "GraphError", "GraphInvalid", "Limits", "analyze",
           "check_size", "compile_graph", "generate_source", "parse_json", "published_schema", "registry_document",
           "upgrade"]
