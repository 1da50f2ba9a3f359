// Undo and redo by snapshots: after every edit the whole graph is kept as a JSON string, so undoing any
// kind of edit is the same operation (restore a snapshot), and an unchanged graph is noticed by comparing
// strings. Graphs are small (at most 500 nodes), so a snapshot costs little.

const LIMIT = 200;

export class History {
  constructor(snapshot) {
    this.snapshots = [snapshot];
    this.index = 0;
    this.lastKey = null;
  }

  get current() {
    return this.snapshots[this.index];
  }

  // Keep a new snapshot. Edits with the same key in a row (typing into one field) become one step, so one
  // undo takes back the whole value rather than its last keystroke. Returns whether anything changed.
  commit(snapshot, key = null) {
    if (snapshot === this.current) return false;
    const merge = key !== null && key === this.lastKey && this.index > 0;
    if (merge && snapshot === this.snapshots[this.index - 1]) {
      // Typed back to where the step began: the step is gone, and the next keystroke starts a new one.
      this.snapshots.splice(this.index);
      this.index -= 1;
      this.lastKey = null;
      return true;
    }
    this.snapshots.splice(merge ? this.index : this.index + 1);
    this.snapshots.push(snapshot);
    if (this.snapshots.length > LIMIT) this.snapshots.shift();
    this.index = this.snapshots.length - 1;
    this.lastKey = key;
    return true;
  }

  undo() {
    if (!this.canUndo) return null;
    this.index -= 1;
    this.lastKey = null;
    return this.current;
  }

  redo() {
    if (!this.canRedo) return null;
    this.index += 1;
    this.lastKey = null;
    return this.current;
  }

  get canUndo() {
    return this.index > 0;
  }

  get canRedo() {
    return this.index < this.snapshots.length - 1;
  }
}
