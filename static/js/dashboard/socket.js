// A run's event stream over its websocket, /ws/runs/<id>/?after=<seq>. The server replays the stored events
// after `after` and then sends live ones, each with the next `seq`. When the connection drops, this asks again
// from the last seq it delivered, waiting longer after each failure (exponential backoff), so the page misses
// nothing; anything at or below that seq (a replay overlapping the live feed) is dropped, so it sees nothing
// twice. While Redis is down the server accepts and at once closes with code 4503 (training/consumers.py): a
// socket closed before it settled counts as a failure, so the delay keeps growing and the notice stays up.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const SETTLED_MS = 1_000; // open this long (or a first event) before the connection counts as back

/**
 * Calls onEvent(event) once per event, in seq order, and onConnection("open" | "reconnecting").
 * Returns {close()}.
 */
export function openRunStream(runId, { onEvent, onConnection = () => {} }) {
  let lastSeq = 0;
  let delay = FIRST_DELAY_MS;
  let socket = null;
  let retry = null;
  let settle = null;
  let closed = false;

  function settled() {
    clearTimeout(settle);
    settle = null;
    delay = FIRST_DELAY_MS;
    onConnection("open");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/runs/${runId}/?after=${lastSeq}`);
    socket.onopen = () => {
      settle = setTimeout(settled, SETTLED_MS);
    };
    socket.onmessage = (message) => {
      if (closed) return;
      if (settle !== null) settled();
      const event = JSON.parse(message.data);
      if (event.seq <= lastSeq) return;
      if (event.seq > lastSeq + 1) {
        // A gap (the server never sends one on purpose): reconnecting replays it from the database.
        socket.close();
        return;
      }
      lastSeq = event.seq;
      onEvent(event);
    };
    socket.onclose = () => {
      clearTimeout(settle);
      settle = null;
      if (closed) return;
      onConnection("reconnecting");
      retry = setTimeout(connect, delay);
      delay = Math.min(2 * delay, MAX_DELAY_MS);
    };
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(settle);
      socket.close();
    },
  };
}
