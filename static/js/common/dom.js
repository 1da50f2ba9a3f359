// Small DOM helpers shared by every page's modules.

/** An element with attributes (`on*` functions become listeners) and children (strings become text). A `style`
 * string is applied through the CSSOM, which the Content-Security-Policy allows (a style attribute it refuses). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") element.style.cssText = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** Show an error's message in `element`, or hide it when there is none. */
export function showError(element, error) {
  element.textContent = error ? error.message || String(error) : "";
  element.hidden = !error;
}
