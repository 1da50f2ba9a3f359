// Keyboard shortcuts. One table drives both the key handling and the help dialog, so the help lists
// exactly the keys that work. "Mod" is Ctrl, or Cmd on a Mac.

const MAC = /Mac|iPhone|iPad/.test(navigator.platform);

function parse(spec) {
  const parts = spec.split("+");
  const key = parts.pop();
  return { key: key.toLowerCase(), mod: parts.includes("Mod"), shift: parts.includes("Shift") };
}

function matches(spec, event) {
  const { key, mod, shift } = parse(spec);
  if (event.key.toLowerCase() !== key || (event.ctrlKey || event.metaKey) !== mod || event.altKey) return false;
  // "?" is typed with Shift on most keyboards; for letters Shift makes a different shortcut.
  return key.length !== 1 || !/[a-z]/.test(key) || event.shiftKey === shift;
}

export function keyLabel(spec) {
  return spec.replace("Mod", MAC ? "⌘" : "Ctrl").replaceAll("+", " + ");
}

function typingInField(event) {
  const target = event.target;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

// shortcuts: [{keys: ["Mod+Z"], label: "Undo", run, inFields?: true}]. A shortcut without inFields is
// left to the field while one is being typed into (Backspace deletes a character, not a layer).
export function bindShortcuts(shortcuts, helpList) {
  document.addEventListener("keydown", (event) => {
    if (event.repeat && !event.ctrlKey && !event.metaKey) return;
    const shortcut = shortcuts.find((s) => s.keys.some((spec) => matches(spec, event)));
    if (!shortcut || (typingInField(event) && !shortcut.inFields)) return;
    if (document.querySelector("dialog[open]") && !shortcut.inDialogs) return;
    event.preventDefault();
    shortcut.run();
  });
  helpList.replaceChildren(...shortcuts.map((shortcut) => {
    const row = document.createElement("div");
    const keys = document.createElement("dt");
    for (const spec of shortcut.keys) {
      const kbd = document.createElement("kbd");
      kbd.textContent = keyLabel(spec);
      keys.append(kbd);
    }
    const label = document.createElement("dd");
    label.textContent = shortcut.label;
    row.append(keys, label);
    return row;
  }));
}
