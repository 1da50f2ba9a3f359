// The layer registry as GET /api/layers serves it: the one description of every layer, from which the
// palette, the parameter forms and new nodes are made. Nothing here knows a layer by name.

export class Registry {
  constructor(document) {
    this.categories = document.categories;
    this.layers = new Map(document.layers.map((layer) => [layer.type, layer]));
  }

  layer(type) {
    return this.layers.get(type);
  }

  label(type) {
    return this.layer(type)?.label ?? type;
  }

  category(type) {
    return this.layer(type)?.category ?? "";
  }

  // A new node writes only what it must: required parameters at their defaults. The others stay unset,
  // so the registry's defaults apply and the saved graph reads like the examples.
  initialParams(type) {
    const params = {};
    for (const param of this.layer(type).params) {
      if (param.required) params[param.name] = structuredClone(param.default);
    }
    return params;
  }

  // Whether a node of this type can take an input at all (Input cannot).
  acceptsInputs(type) {
    const inputs = this.layer(type)?.inputs;
    return !inputs || inputs.max === null || inputs.max > 0;
  }
}
