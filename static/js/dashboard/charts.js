// Live Plotly charts. One Plotly redraw costs 16-55 ms here whatever the number of points, while events
// arrive ten times a second per run, or by the thousand when a finished run is replayed. So nothing is drawn
// when data arrives: a chart buffers it and tells the scheduler, which redraws every chart with news in one
// animation frame and then waits REDRAW_INTERVAL_MS for each chart it drew. The whole page therefore makes at
// most about ten redraws a second, however fast the events come.

const REDRAW_INTERVAL_MS = 100;
const waiting = new Set();
let timer = null;
let nextAllowed = 0;

function arm() {
  if (timer === null && waiting.size) {
    timer = setTimeout(() => requestAnimationFrame(flush), Math.max(0, nextAllowed - performance.now()));
  }
}

function flush() {
  const charts = [...waiting];
  waiting.clear();
  charts.forEach((chart) => chart.draw());
  nextAllowed = performance.now() + REDRAW_INTERVAL_MS * charts.length;
  timer = null;
  arm();
}

export const COLORS = ["#2f6fde", "#e8710a", "#12a150", "#c2185b", "#7b4fd6", "#00897b", "#b58900", "#5b6475"];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const AXIS = { gridcolor: "#edf0f5", linecolor: "#d8dde6", zeroline: false, automargin: true,
  title: { font: { size: 11 } } };
const BASE_LAYOUT = {
  font: { family: FONT, size: 11, color: "#5b6475" },
  margin: { l: 50, r: 14, t: 34, b: 38 },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  legend: { orientation: "h", x: 1, xanchor: "right", y: 1.0, yanchor: "bottom", font: { size: 11 } },
  hovermode: "x unified",
  showlegend: true,
};
const CONFIG = { displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"] };

function cutFrom(series, x) {
  const at = series.x.findIndex((value) => value >= x);
  if (at >= 0) {
    series.x = series.x.slice(0, at);
    series.y = series.y.slice(0, at);
  }
}

export class LiveChart {
  /** `title`, `xTitle`, `yTitle`; `layout`: any other Plotly layout; `maxPoints`: the most points a trace
   * keeps (the latest ones). */
  constructor(element, { title, xTitle, yTitle, layout = {}, maxPoints = Infinity }) {
    this.element = element;
    this.maxPoints = maxPoints;
    this.layout = { ...BASE_LAYOUT, title: { text: title, x: 0.01, font: { size: 13, color: "#1d2330" } },
      xaxis: { ...AXIS, title: { ...AXIS.title, text: xTitle } },
      yaxis: { ...AXIS, title: { ...AXIS.title, text: yTitle } }, ...layout };
    this.revision = 0;
    this.setTraces([]);
    // Sized from its element at each draw, so a resize is one more (scheduled) redraw, and a chart in a hidden
    // panel waits until the panel is shown instead of being drawn at Plotly's default size.
    new ResizeObserver(() => this.request()).observe(element);
  }

  /** Replace every trace, and the title, y-axis title, y tick format or y range ([min, max], or null to
   * autoscale) when given. A zoom the user made is reset with them. */
  setTraces(traces, { title, yTitle, yFormat, yRange } = {}) {
    this.traces = traces.map((trace) => ({ type: "scatter", mode: "lines", x: [], y: [], ...trace }));
    this.pending = this.traces.map(() => ({ x: [], y: [] }));
    if (title !== undefined) this.layout.title = { ...this.layout.title, text: title };
    if (yTitle !== undefined) this.layout.yaxis = { ...this.layout.yaxis, title: { ...AXIS.title, text: yTitle } };
    if (yFormat !== undefined) this.layout.yaxis = { ...this.layout.yaxis, tickformat: yFormat };
    if (yRange !== undefined) {
      this.layout.yaxis = { ...this.layout.yaxis, range: yRange ?? undefined, autorange: yRange === null };
    }
    this.layout.uirevision = (this.layout.uirevision || 0) + 1;
    this.request();
  }

  /** Buffer points for a trace. x only moves forward: a resumed run restarts from its last checkpoint, so
   * the points it sends again replace the ones after it. */
  extend(index, xs, ys) {
    if (!xs.length) return;
    cutFrom(this.traces[index], xs[0]);
    cutFrom(this.pending[index], xs[0]);
    this.pending[index].x.push(...xs);
    this.pending[index].y.push(...ys);
    this.request();
  }

  request() {
    waiting.add(this);
    arm();
  }

  /** Called by the scheduler only. */
  draw() {
    const { clientWidth: width, clientHeight: height } = this.element;
    if (!width || !height) return;
    this.traces.forEach((trace, i) => {
      const news = this.pending[i];
      trace.x = trace.x.concat(news.x).slice(-this.maxPoints);
      trace.y = trace.y.concat(news.y).slice(-this.maxPoints);
      this.pending[i] = { x: [], y: [] };
    });
    // Plotly writes the ranges it computes into the axis objects it is given: fresh copies each time, so the
    // axes of a previous run (or of its first point) are never kept. A line needs two points: one alone is
    // drawn as a marker.
    const traces = this.traces.map((trace) => (trace.x.length === 1 && trace.mode === "lines"
      ? { ...trace, mode: "lines+markers" } : trace));
    Plotly.react(this.element, traces, { ...this.layout, xaxis: { ...this.layout.xaxis },
      yaxis: { ...this.layout.yaxis }, width, height, datarevision: ++this.revision }, CONFIG);
  }
}
