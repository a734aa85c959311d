/* streamspec page: draws the embedded spectra on a canvas and handles hover, click,
   zoom, pan, keys and the video. No dependencies, nothing fetched. The data format is
   described in streamspec/outputs/page.py; colours arrive already in streamspec's strip order
   with their merge groups, so this script only stacks rectangles and sums shares. */
(() => {
  'use strict';

  performance.mark('streamspec:start');
  const $ = (id) => document.getElementById(id);
  const DATA = JSON.parse($('streamspec-data').textContent);
  const SCALE = DATA.shareScale;
  const TILE_W = 2048; // slots per bitmap (canvases have size limits)
  const TILE_H = 512; // rows per strip in the bitmaps
  const MAX_PX_PER_STRIP = 64; // the closest zoom
  const LABEL_H = 20;
  const SEG_H = 14;
  const CHAP_H = 28;
  const AXIS_H = 24;
  const GAP = 10;
  const TIP_COLOURS = 8;
  const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
    7200, 10800, 21600, 43200, 86400];

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const pad2 = (n) => (n < 10 ? '0' : '') + n;
  const pct = (share) => (share * 100).toFixed(1) + ' %';

  /** A time as a clock shows it (streamspec/core/timefmt.py's clock: the tests compare the
      two): m:ss below an hour, h:mm:ss from one (hours true: always; false: never),
      `decimals` digits of fractions (trim: without trailing zeros), floored at the
      shown precision, as players show a position. */
  function clock(t, decimals = 0, hours = null, trim = false) {
    if (t == null || !Number.isFinite(t)) return '?';
    const scale = 10 ** decimals;
    const units = Math.floor(Math.max(0, t) * scale + 1e-6); // 0.29 s: 28.999... hundredths
    const frac = units % scale;
    const whole = (units - frac) / scale;
    const h = Math.floor(whole / 3600);
    const m = Math.floor(whole / 60) % 60;
    const s = whole % 60;
    const showHours = hours == null ? h > 0 : hours;
    let out = showHours ? `${h}:${pad2(m)}:${pad2(s)}` : `${h * 60 + m}:${pad2(s)}`;
    if (decimals) {
      let digits = String(frac).padStart(decimals, '0');
      if (trim) digits = digits.replace(/0+$/, '');
      if (digits) out += '.' + digits;
    }
    return out;
  }

  /** A time as the page shows and copies it: hundredths when there are any. */
  const fmtTime = (t) => clock(t, 2, null, true);

  // ---- decoding ----------------------------------------------------------------------
  const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function bytes(text) {
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function typed(text, Type) {
    const b = bytes(text);
    const size = Type.BYTES_PER_ELEMENT;
    if (size === 1) return b;
    // The data is little-endian; typed arrays use the machine's order.
    if (!LITTLE) for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
    return new Type(b.buffer, b.byteOffset, b.length / size);
  }

  // Continuous column coordinate, linear in time (as streamspec/core/grid.py): slot s covers
  // columns [s, s + 1), the times [start + s step, start + (s + 1) step).
  const uOf = (f, t) => (t - f.start) / f.step;
  const tOfU = (f, u) => f.start + u * f.step;

  const films = DATA.films.map((d, index) => {
    const x = d.data;
    const f = {
      index, label: d.label, source: d.source, duration: d.duration, k: d.k,
      start: d.start, step: d.step, offset: d.offset, width: d.slots, n: d.strips,
      partial: d.partial, chapters: d.chapters, segments: d.segments,
      slot: typed(x.slot, Uint32Array),
      time: typed(x.time, Float64Array),
      target: typed(x.target, Float64Array),
      ncol: typed(x.ncol, Uint16Array),
      rgb: typed(x.rgb, Uint8Array),
      share: typed(x.share, Uint16Array),
      lead: typed(x.lead, Uint8Array),
      tiles: new Map(),
    };
    f.first = new Uint32Array(f.n + 1);
    for (let i = 0; i < f.n; i++) f.first[i + 1] = f.first[i] + f.ncol[i];
    f.bySlot = new Int32Array(f.width).fill(-1);
    for (let i = 0; i < f.n; i++) f.bySlot[f.slot[i]] = i;
    f.t0 = tOfU(f, 0);
    f.t1 = tOfU(f, f.width); // the last slot's end: the film's end
    f.chapters.forEach((c, i, all) => {
      if (c.end == null) c.end = i + 1 < all.length ? all[i + 1].start : f.t1;
    });
    f.segments.forEach((s) => { if (s.end == null) s.end = f.t1; });
    return f;
  });
  performance.mark('streamspec:decoded');
  const multi = films.length > 1;
  const T0 = Math.min(...films.map((f) => f.t0));
  const T1 = Math.max(...films.map((f) => f.t1));
  const minStep = Math.min(...films.map((f) => f.step));

  function hex(f, j) {
    const v = (1 << 24) | (f.rgb[3 * j] << 16) | (f.rgb[3 * j + 1] << 8) | f.rgb[3 * j + 2];
    return '#' + v.toString(16).slice(1);
  }

  /** Strip i's colours as listed: merged groups (see page.py), largest share first. */
  function merged(f, i) {
    const a = f.first[i];
    const sums = new Map();
    for (let j = a; j < f.first[i + 1]; j++) {
      const lead = a + f.lead[j];
      sums.set(lead, (sums.get(lead) || 0) + f.share[j]);
    }
    const out = [];
    for (const [j, s] of sums) out.push({ j, hex: hex(f, j), share: s / SCALE });
    out.sort((p, q) => q.share - p.share || p.j - q.j);
    return out;
  }

  /** The strip standing for time t, or the nearest one (strips are in slot order); a
      time on a boundary is the later slot's, whose span starts there. */
  function nearestStrip(f, t) {
    const u = uOf(f, t) - 0.5; // in slots, compared with the slots' centres
    let lo = 0;
    let hi = f.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (f.slot[mid] < u) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(f.slot[lo - 1] - u) < Math.abs(f.slot[lo] - u)) lo -= 1;
    return lo;
  }

  function chapterAt(f, t) {
    let found = null;
    for (const c of f.chapters) { if (c.start <= t && t < c.end) found = c; if (c.start > t) break; }
    return found;
  }

  // ---- colour names, for screen readers ------------------------------------------------
  function lin(v) { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }

  function colourName(r, g, b) {
    const R = lin(r);
    const G = lin(g);
    const B = lin(b);
    const l = Math.cbrt(0.4122214708 * R + 0.5363325363 * G + 0.0514459929 * B);
    const m = Math.cbrt(0.2119034982 * R + 0.6806995451 * G + 0.1073969566 * B);
    const s = Math.cbrt(0.0883024619 * R + 0.2817188376 * G + 0.6299787005 * B);
    const L = 0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s;
    const A = 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s;
    const Bb = 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s;
    const C = Math.hypot(A, Bb);
    const tone = L < 0.3 ? 'very dark ' : L < 0.5 ? 'dark ' : L > 0.86 ? 'pale ' : L > 0.72 ? 'light ' : '';
    if (C < 0.035) return L < 0.2 ? 'black' : L > 0.95 ? 'white' : tone + 'grey';
    const h = (Math.atan2(Bb, A) * 180 / Math.PI + 360) % 360;
    let name = h < 40 || h >= 345 ? 'red' : h < 70 ? 'orange' : h < 120 ? 'yellow'
      : h < 170 ? 'green' : h < 220 ? 'teal' : h < 285 ? 'blue' : h < 320 ? 'purple' : 'pink';
    if (name === 'orange' && L < 0.55) name = 'brown';
    return tone + name;
  }

  // ---- bitmaps ---------------------------------------------------------------------------
  const pack = LITTLE
    ? (r, g, b) => (0xff000000 | (b << 16) | (g << 8) | r) >>> 0
    : (r, g, b) => ((r << 24) | (g << 16) | (b << 8) | 0xff) >>> 0;

  /** Tile t of film f: TILE_W slots as a TILE_H-row bitmap, built when first drawn. */
  function tile(f, t) {
    let c = f.tiles.get(t);
    if (c) return c;
    const a = t * TILE_W;
    const w = Math.min(TILE_W, f.width - a);
    c = document.createElement('canvas');
    c.width = w;
    c.height = TILE_H;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(w, TILE_H);
    const px = new Uint32Array(img.data.buffer);
    for (let s = a; s < a + w; s++) {
      const i = f.bySlot[s];
      if (i < 0) continue; // an empty slot stays transparent
      let cum = 0;
      let y0 = 0;
      for (let j = f.first[i]; j < f.first[i + 1]; j++) {
        cum += f.share[j];
        const y1 = Math.round(cum * TILE_H / SCALE);
        if (y1 > y0) {
          const v = pack(f.rgb[3 * j], f.rgb[3 * j + 1], f.rgb[3 * j + 2]);
          for (let y = y0; y < y1; y++) px[y * w + s - a] = v;
          y0 = y1;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    f.tiles.set(t, c);
    return c;
  }

  // ---- page elements ---------------------------------------------------------------------
  const wrap = $('spectrum');
  const base = $('base');
  const over = $('overlay');
  const tip = $('tip');
  const toastEl = $('toast');
  const live = $('live');
  const video = $('video');
  const bctx = base.getContext('2d');
  const octx = over.getContext('2d');

  const state = {
    hover: null, cursor: null, cursorShown: false, playhead: null, lastCopied: null,
    videoError: false, chapters: [], segments: [], axis: [], draws: 0,
  };
  const stats = { hover: [], overlay: [], base: [] };
  const record = (list, ms) => { list.push(ms); if (list.length > 2000) list.shift(); };

  let theme = {};
  function readTheme() {
    const cs = getComputedStyle(document.documentElement);
    const v = (name) => cs.getPropertyValue(name).trim();
    theme = {
      ink: v('--ink'), dim: v('--dim'), line: v('--line'), empty: v('--empty'),
      accent: v('--accent'), focus: v('--focus'), bg: v('--bg'), sans: v('--sans'),
    };
  }

  // ---- layout and view -------------------------------------------------------------------
  let W = 1;
  let H = 1;
  let dpr = 1;
  let axisY = 0;
  const lanes = [];

  function layout() {
    W = Math.max(1, Math.floor(wrap.clientWidth));
    const vh = window.innerHeight || 800;
    const specH = multi
      ? clamp(Math.round(vh * 0.55 / films.length), 60, 240)
      : clamp(Math.round(vh * 0.42), 140, 420);
    lanes.length = 0;
    let y = 0;
    for (const f of films) {
      const lane = { film: f.index, top: y };
      y += multi ? LABEL_H : 0;
      lane.specY = y;
      lane.specH = specH;
      y += specH;
      lane.segY = y;
      if (f.segments.length) y += SEG_H;
      lane.chapY = y;
      if (f.chapters.length) y += CHAP_H;
      lane.bottom = y;
      lanes.push(lane);
      y += GAP;
    }
    axisY = y - GAP + 2;
    H = axisY + AXIS_H;
    dpr = window.devicePixelRatio || 1;
    for (const c of [base, over]) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
      c.style.width = W + 'px';
      c.style.height = H + 'px';
    }
  }

  const view = { t0: T0, spp: 1, fit: true };
  const fitSpp = () => (T1 - T0) / W;
  const minSpp = () => Math.min(minStep / MAX_PX_PER_STRIP, fitSpp());
  const xOf = (t) => (t - view.t0) / view.spp;
  const tOf = (x) => view.t0 + x * view.spp;
  const xOfU = (f, u) => xOf(tOfU(f, u));

  function clampView() {
    view.spp = clamp(view.spp, minSpp(), fitSpp());
    view.t0 = clamp(view.t0, T0, T1 - W * view.spp);
    view.fit = view.spp >= fitSpp() * (1 - 1e-9);
  }

  function fitAll() { view.spp = fitSpp(); view.t0 = T0; clampView(); redraw(); }

  function zoomAt(x, factor) {
    const t = tOf(x);
    view.spp = clamp(view.spp / factor, minSpp(), fitSpp());
    view.t0 = t - x * view.spp;
    clampView();
    redraw();
  }

  function panBy(dx) { view.t0 -= dx * view.spp; clampView(); redraw(); }

  // ---- drawing ---------------------------------------------------------------------------
  let baseDirty = false;
  let overDirty = false;
  let raf = 0;
  function schedule() { if (!raf) raf = requestAnimationFrame(frame); }
  function redraw() { baseDirty = true; overDirty = true; schedule(); }
  function requestOverlay() { overDirty = true; schedule(); }
  function frame() {
    raf = 0;
    if (baseDirty) { baseDirty = false; drawBase(); }
    if (overDirty) { overDirty = false; drawOverlay(); }
  }

  function fitText(ctx, text, width) {
    if (width <= 0) return '';
    if (ctx.measureText(text).width <= width) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) { // the longest prefix that fits with an ellipsis
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid).trimEnd() + '…').width <= width) lo = mid; else hi = mid - 1;
    }
    return lo ? text.slice(0, lo).trimEnd() + '…' : '';
  }

  function drawStrips(ctx, f, lane) {
    const pxPerSlot = f.step / view.spp;
    // Crisp strips when zoomed in; averaged when several strips share a pixel.
    ctx.imageSmoothingEnabled = pxPerSlot < 1;
    ctx.imageSmoothingQuality = 'high';
    const u0 = Math.max(0, uOf(f, tOf(0)));
    const u1 = Math.min(f.width, uOf(f, tOf(W)));
    for (let t = Math.floor(u0 / TILE_W); t * TILE_W < u1; t++) {
      const a = t * TILE_W;
      const s0 = Math.max(a, u0);
      const s1 = Math.min(a + TILE_W, u1);
      if (s1 <= s0) continue;
      ctx.drawImage(tile(f, t), s0 - a, 0, s1 - s0, TILE_H,
        xOfU(f, s0), lane.specY, (s1 - s0) * pxPerSlot, lane.specH);
    }
  }

  function drawSegments(ctx, f, lane) {
    for (const s of f.segments) {
      const x0 = xOf(s.start);
      const x1 = xOf(s.end);
      if (x1 < 0 || x0 > W) continue;
      const total = s.colours.reduce((sum, c) => sum + c[1], 0) || 1;
      let x = x0;
      for (const [colour, share] of s.colours) {
        const w = (x1 - x0) * share / total;
        ctx.fillStyle = colour;
        ctx.fillRect(x, lane.segY + 2, w, SEG_H - 4);
        x += w;
      }
      if (s.start > f.t0 + 1e-6) { // a boundary mark
        ctx.fillStyle = theme.ink;
        ctx.fillRect(Math.round(x0) - 1, lane.segY, 2, SEG_H);
      }
      state.segments.push({ film: f.index, start: s.start, end: s.end, x0, x1 });
    }
  }

  function drawChapters(ctx, f, lane) {
    ctx.font = `12px ${theme.sans}`;
    ctx.textBaseline = 'top';
    ctx.strokeStyle = theme.ink;
    ctx.fillStyle = theme.ink;
    ctx.lineWidth = 1;
    const top = lane.chapY + 3.5;
    for (const c of f.chapters) {
      const x0 = xOf(c.start);
      const x1 = xOf(c.end);
      if (x1 < 0 || x0 > W || x1 - x0 < 1) continue;
      const m = Math.max(0.5, Math.min(3, (x1 - x0) / 6));
      ctx.beginPath();
      ctx.moveTo(Math.round(x0 + m) + 0.5, top);
      ctx.lineTo(Math.round(x0 + m) + 0.5, top + 4);
      ctx.lineTo(Math.round(x1 - m) + 0.5, top + 4);
      ctx.lineTo(Math.round(x1 - m) + 0.5, top);
      ctx.stroke();
      const v0 = Math.max(0, x0 + m);
      const v1 = Math.min(W, x1 - m);
      const title = fitText(ctx, c.title, v1 - v0 - 4);
      if (title) ctx.fillText(title, (v0 + v1 - ctx.measureText(title).width) / 2, top + 8);
      state.chapters.push({ film: f.index, title: c.title, shown: title, x0, x1 });
    }
  }

  function axisLabel(t, step) {
    return clock(t, step < 1 ? 1 : 0, T1 >= 3600);
  }

  function drawAxis(ctx) {
    ctx.font = `12px ${theme.sans}`;
    ctx.textBaseline = 'top';
    const t0 = Math.max(0, tOf(0));
    const t1 = tOf(W);
    const gap = 16;
    let step = 0;
    for (const s of STEPS) { // the finest step whose widest label fits between ticks
      if (s / view.spp >= ctx.measureText(axisLabel(t1, s)).width + gap) { step = s; break; }
    }
    if (!step) {
      step = 86400;
      while (step / view.spp < ctx.measureText(axisLabel(t1, step)).width + gap) step *= 2;
    }
    ctx.fillStyle = theme.line;
    ctx.fillRect(0, axisY, W, 1);
    let lastRight = -Infinity;
    for (let k = Math.ceil(t0 / step - 1e-9); k * step <= t1 + 1e-9; k++) {
      const t = k * step;
      const x = xOf(t);
      if (x < 0 || x > W) continue;
      ctx.fillStyle = theme.dim;
      ctx.fillRect(Math.round(x), axisY, 1, 5);
      const text = axisLabel(t, step);
      const w = ctx.measureText(text).width;
      const lx = clamp(x - w / 2, 0, W - w);
      if (lx < lastRight + 6) continue; // never two labels on top of each other
      ctx.fillText(text, lx, axisY + 7);
      lastRight = lx + w;
      state.axis.push({ text, x0: lx, x1: lx + w, t });
    }
  }

  function drawBase() {
    const start = performance.now();
    const ctx = bctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    state.chapters = [];
    state.segments = [];
    state.axis = [];
    for (const lane of lanes) {
      const f = films[lane.film];
      if (multi) {
        ctx.font = `600 13px ${theme.sans}`;
        ctx.textBaseline = 'middle';
        ctx.fillStyle = theme.ink;
        ctx.fillText(fitText(ctx, f.label, W - 4), 0, lane.top + LABEL_H / 2);
      }
      const x0 = Math.max(0, xOf(f.t0));
      const x1 = Math.min(W, xOf(f.t1));
      if (x1 > x0) { // empty slots (a partial spectrum) show as this
        ctx.fillStyle = theme.empty;
        ctx.fillRect(x0, lane.specY, x1 - x0, lane.specH);
      }
      drawStrips(ctx, f, lane);
      if (f.segments.length) drawSegments(ctx, f, lane);
      if (f.chapters.length) drawChapters(ctx, f, lane);
    }
    drawAxis(ctx);
    state.draws += 1;
    record(stats.base, performance.now() - start);
  }

  /** Strip i of film fi on the canvas, in CSS pixels. */
  function stripBox(fi, i) {
    const f = films[fi];
    const lane = lanes[fi];
    const x0 = xOfU(f, f.slot[i]);
    const x1 = xOfU(f, f.slot[i] + 1);
    return { x: x0, w: x1 - x0, y: lane.specY, h: lane.specH, cx: (x0 + x1) / 2 };
  }

  function outline(ctx, c, colour) {
    const b = stripBox(c.film, c.strip);
    const w = Math.max(b.w, 3);
    const x = Math.round(b.cx - w / 2);
    // A coloured line on a dark halo: visible on any strip.
    ctx.lineWidth = 4;
    ctx.strokeStyle = 'rgb(0 0 0 / 70%)';
    ctx.strokeRect(x - 2, b.y - 1, Math.round(w) + 4, b.h + 2);
    ctx.lineWidth = 2;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x - 2, b.y - 1, Math.round(w) + 4, b.h + 2);
  }

  function drawOverlay() {
    const start = performance.now();
    const ctx = octx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (state.hover) {
      if (multi) { // the same moment in the other films
        ctx.fillStyle = theme.dim;
        ctx.fillRect(Math.round(stripBox(state.hover.film, state.hover.strip).cx), 0, 1, axisY);
      }
      outline(ctx, state.hover, '#fff');
    }
    if (state.cursor && state.cursorShown) outline(ctx, state.cursor, theme.focus);
    if (state.playhead != null) {
      const x = xOf(state.playhead);
      if (x >= -1 && x <= W + 1) {
        ctx.fillStyle = theme.accent;
        ctx.fillRect(Math.round(x) - 1, 0, 2, axisY);
        ctx.beginPath();
        ctx.moveTo(Math.round(x) - 6, axisY);
        ctx.lineTo(Math.round(x) + 6, axisY);
        ctx.lineTo(Math.round(x), axisY - 8);
        ctx.fill();
      }
    }
    record(stats.overlay, performance.now() - start);
  }

  // ---- tooltip, details, announcements -------------------------------------------------
  function colourItem(c) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'sw';
    sw.style.background = c.hex;
    const code = document.createElement('code');
    code.textContent = c.hex;
    const p = document.createElement('span');
    p.className = 'pct';
    p.textContent = pct(c.share);
    li.append(sw, code, p);
    return li;
  }

  function div(cls, text) {
    const d = document.createElement('div');
    d.className = cls;
    d.textContent = text;
    return d;
  }

  function stripLine(f, i) {
    const parts = [];
    if (multi) parts.push(f.label);
    parts.push(`strip ${i + 1} of ${f.n}`);
    const ch = chapterAt(f, f.time[i]);
    if (ch && ch.title) parts.push(ch.title);
    return parts.join(' · ');
  }

  function fillTip(fi, i) {
    const f = films[fi];
    const list = merged(f, i);
    const ol = document.createElement('ol');
    ol.className = 'colours';
    for (const c of list.slice(0, TIP_COLOURS)) ol.append(colourItem(c));
    const nodes = [div('tip-time', fmtTime(f.time[i])), div('tip-sub', stripLine(f, i)), ol];
    if (list.length > TIP_COLOURS) {
      const rest = list.slice(TIP_COLOURS).reduce((s, c) => s + c.share, 0);
      nodes.push(div('tip-more', `+${list.length - TIP_COLOURS} more, ${pct(rest)}`));
    }
    tip.replaceChildren(...nodes);
    tip.hidden = false;
  }

  function placeTip(x, y) {
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let left = x + 16;
    if (left + w > W) left = x - 16 - w;
    left = clamp(left, 0, Math.max(0, W - w));
    const top = clamp(y - h / 2, 0, Math.max(0, H - h));
    tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }

  function hideTip() { tip.hidden = true; }

  function showDetails(fi, i) {
    clearTimeout(detailsTimer);
    const f = films[fi];
    const list = merged(f, i);
    const t = f.time[i];
    let head = `${fmtTime(t)}${multi ? ' — ' + f.label : ''}: strip ${i + 1} of ${f.n}`;
    if (Math.abs(t - f.target[i]) >= 0.005) head += ` (sample time ${fmtTime(f.target[i])})`;
    head += `, ${list.length} colour${list.length === 1 ? '' : 's'}`;
    $('details-head').textContent = head;
    const bar = $('details-bar');
    bar.replaceChildren(...list.map((c) => {
      const d = document.createElement('div');
      d.style.flex = `${c.share} 0 0`;
      d.style.background = c.hex;
      return d;
    }));
    $('details-list').replaceChildren(...list.map(colourItem));
    $('details').dataset.film = fi;
    $('details').dataset.strip = i;
  }

  // The full list waits until the pointer rests: rebuilding ~50 rows on every move
  // would cost the hover its frame.
  let detailsTimer = 0;
  function detailsLater(fi, i) {
    clearTimeout(detailsTimer);
    detailsTimer = setTimeout(() => showDetails(fi, i), 80);
  }

  let announceTimer = 0;
  function describe(fi, i) {
    const f = films[fi];
    const top = merged(f, i).slice(0, 3).map((c) => {
      const j = 3 * c.j;
      return `${colourName(f.rgb[j], f.rgb[j + 1], f.rgb[j + 2])} ${c.hex} ${pct(c.share)}`;
    });
    return `${fmtTime(f.time[i])}${multi ? ', ' + f.label : ''}: ${top.join(', ')}`;
  }

  function announce(fi, i) {
    const f = films[fi];
    over.setAttribute('aria-valuenow', String(Math.round(f.time[i])));
    over.setAttribute('aria-valuetext', fmtTime(f.time[i]) + (multi ? ', ' + f.label : ''));
    clearTimeout(announceTimer); // one announcement when the keys stop
    announceTimer = setTimeout(() => { live.textContent = describe(fi, i); }, 200);
  }

  let toastTimer = 0;
  function toast(text) {
    toastEl.textContent = text;
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 1800);
  }

  // ---- actions ---------------------------------------------------------------------------
  function fallbackCopy(text) {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'visually-hidden';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
    ta.remove();
    return ok;
  }

  function copy(text) {
    const done = (ok) => {
      state.lastCopied = text;
      state.copied = ok;
      toast(ok ? `Copied ${text}` : `Time: ${text}`);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => done(true), () => done(fallbackCopy(text)));
    } else {
      done(fallbackCopy(text));
    }
  }

  function seek(t) {
    if (!video || state.videoError) return;
    video.currentTime = Math.max(0, t);
    state.playhead = video.currentTime;
    requestOverlay();
  }

  /** Put the keyboard cursor on strip i of film fi, keeping it in view. */
  function setCursor(fi, i, { showTip = true } = {}) {
    const f = films[fi];
    i = clamp(i, 0, f.n - 1);
    state.cursor = { film: fi, strip: i };
    let b = stripBox(fi, i);
    const margin = Math.min(W * 0.1, 40);
    if (b.x < 0 || b.x + b.w > W) {
      const x = b.x < 0 ? margin : W - margin;
      view.t0 += (b.cx - x) * view.spp;
      clampView();
      redraw();
      b = stripBox(fi, i);
    }
    showDetails(fi, i);
    announce(fi, i);
    if (showTip) {
      fillTip(fi, i);
      placeTip(b.cx, lanes[fi].specY + Math.min(40, lanes[fi].specH / 2));
    }
    requestOverlay();
  }

  function activate(fi, i) {
    const t = films[fi].time[i];
    copy(fmtTime(t));
    seek(t);
  }

  function goTo(fi, t) {
    const f = films[fi];
    state.cursorShown = true;
    setCursor(fi, nearestStrip(f, t), { showTip: false });
    seek(t);
  }

  // ---- pointer ---------------------------------------------------------------------------
  function hit(x, y) {
    for (const lane of lanes) {
      if (y >= lane.top && y < lane.bottom) {
        const f = films[lane.film];
        const s = Math.floor(uOf(f, tOf(x)));
        return { film: f.index, strip: s >= 0 && s < f.width ? f.bySlot[s] : -1 };
      }
    }
    return null;
  }

  function pos(e) {
    const r = over.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  function onHover(x, y) {
    const start = performance.now();
    const h = hit(x, y);
    const now = h && h.strip >= 0 ? h : null;
    const old = state.hover;
    if (!now !== !old || (now && (now.film !== old.film || now.strip !== old.strip))) {
      state.hover = now;
      if (now) { fillTip(now.film, now.strip); detailsLater(now.film, now.strip); } else hideTip();
      requestOverlay();
    }
    if (now) placeTip(x, y);
    record(stats.hover, performance.now() - start);
  }

  function leave() {
    state.hover = null;
    hideTip();
    if (state.cursor) showDetails(state.cursor.film, state.cursor.strip);
    requestOverlay();
  }

  const pointers = new Map();
  let drag = null;
  let pinch = null;

  function pinchInfo() {
    const [a, b] = [...pointers.values()];
    return { dist: Math.max(1, Math.abs(a.x - b.x)), mid: (a.x + b.x) / 2 };
  }

  over.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    over.setPointerCapture(e.pointerId);
    const p = pos(e);
    pointers.set(e.pointerId, p);
    if (pointers.size === 1) {
      drag = { x: p.x, y: p.y, t0: view.t0, moved: false };
    } else if (pointers.size === 2) { // pinch: zoom about the fingers' midpoint
      const info = pinchInfo();
      pinch = { dist: info.dist, spp: view.spp, t: tOf(info.mid) };
      drag = null;
      hideTip();
    }
  });

  over.addEventListener('pointermove', (e) => {
    const p = pos(e);
    if (pointers.has(e.pointerId)) {
      pointers.set(e.pointerId, p);
      if (pinch && pointers.size === 2) {
        const info = pinchInfo();
        view.spp = clamp(pinch.spp * pinch.dist / info.dist, minSpp(), fitSpp());
        view.t0 = pinch.t - info.mid * view.spp;
        clampView();
        redraw();
        return;
      }
      if (drag) {
        if (!drag.moved && Math.abs(p.x - drag.x) > 4) {
          drag.moved = true;
          over.classList.add('dragging');
          hideTip();
        }
        if (drag.moved) {
          view.t0 = drag.t0 - (p.x - drag.x) * view.spp;
          clampView();
          redraw();
          return;
        }
      }
    }
    if (e.pointerType !== 'touch') onHover(p.x, p.y);
  });

  function release(e, click) {
    if (!pointers.has(e.pointerId)) return;
    const p = pos(e);
    if (click && drag && !drag.moved && pointers.size === 1) {
      const h = hit(p.x, p.y);
      if (h && h.strip >= 0) {
        state.cursorShown = false;
        setCursor(h.film, h.strip, { showTip: false });
        fillTip(h.film, h.strip);
        placeTip(p.x, p.y);
        activate(h.film, h.strip);
      }
    }
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (!pointers.size) { drag = null; over.classList.remove('dragging'); }
  }
  over.addEventListener('pointerup', (e) => release(e, true));
  over.addEventListener('pointercancel', (e) => release(e, false));
  over.addEventListener('pointerleave', (e) => { if (!pointers.size && e.pointerType !== 'touch') leave(); });

  over.addEventListener('wheel', (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? W : 1;
    let dx = e.deltaX * unit;
    let dy = e.deltaY * unit;
    if (e.shiftKey && !dx) { dx = dy; dy = 0; }
    if (Math.abs(dx) > Math.abs(dy)) panBy(-dx);
    else zoomAt(pos(e).x, Math.exp(-dy * 0.002));
  }, { passive: false });

  // ---- keyboard --------------------------------------------------------------------------
  function centreStrip() {
    const fi = state.hover ? state.hover.film : 0;
    return { film: fi, strip: nearestStrip(films[fi], tOf(W / 2)) };
  }

  over.addEventListener('focus', () => {
    if (!over.matches(':focus-visible')) return; // a click focuses too; it sets its own cursor
    state.cursorShown = true;
    const c = state.cursor || centreStrip();
    setCursor(c.film, c.strip);
  });
  over.addEventListener('blur', () => { state.cursorShown = false; if (!state.hover) hideTip(); requestOverlay(); });

  over.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const c = state.cursor || centreStrip();
    const f = films[c.film];
    const cx = () => (state.cursor ? stripBox(state.cursor.film, state.cursor.strip).cx : W / 2);
    state.cursorShown = true;
    switch (e.key) {
      case 'ArrowLeft': setCursor(c.film, c.strip - (e.shiftKey ? 10 : 1)); break;
      case 'ArrowRight': setCursor(c.film, c.strip + (e.shiftKey ? 10 : 1)); break;
      case 'Home': setCursor(c.film, 0); break;
      case 'End': setCursor(c.film, f.n - 1); break;
      case 'PageUp':
      case 'PageDown': {
        const d = (e.key === 'PageUp' ? -0.9 : 0.9) * W * view.spp;
        panBy(-d / view.spp);
        setCursor(c.film, nearestStrip(f, f.time[c.strip] + d));
        break;
      }
      case 'ArrowUp':
      case 'ArrowDown': {
        if (!multi) return;
        const g = clamp(c.film + (e.key === 'ArrowUp' ? -1 : 1), 0, films.length - 1);
        setCursor(g, nearestStrip(films[g], f.time[c.strip]));
        break;
      }
      case '+':
      case '=': zoomAt(clamp(cx(), 0, W), 1.5); requestTipAtCursor(); break;
      case '-':
      case '_': zoomAt(clamp(cx(), 0, W), 1 / 1.5); requestTipAtCursor(); break;
      case '0': fitAll(); requestTipAtCursor(); break;
      case 'Enter':
      case ' ': setCursor(c.film, c.strip); activate(c.film, c.strip); break;
      case 'Escape': hideTip(); break;
      default: return;
    }
    e.preventDefault();
  });

  function requestTipAtCursor() {
    if (!state.cursor || tip.hidden) return;
    const b = stripBox(state.cursor.film, state.cursor.strip);
    placeTip(b.cx, lanes[state.cursor.film].specY + Math.min(40, lanes[state.cursor.film].specH / 2));
  }

  const zoomButton = (factor) => () => {
    const x = state.cursor ? clamp(stripBox(state.cursor.film, state.cursor.strip).cx, 0, W) : W / 2;
    zoomAt(x, factor);
  };
  $('zoom-in').addEventListener('click', zoomButton(2));
  $('zoom-out').addEventListener('click', zoomButton(0.5));
  $('zoom-fit').addEventListener('click', fitAll);

  // ---- video -----------------------------------------------------------------------------
  function scriptNote(text) {
    const note = $('script-note');
    note.textContent = text;
    note.hidden = false;
  }

  if (video) {
    const follow = () => {
      state.playhead = video.currentTime;
      // While playing, keep the playhead in view (unless the user is dragging).
      if (!video.paused && !view.fit && !pointers.size) {
        const x = xOf(state.playhead);
        if (x < 0 || x > W) { view.t0 = state.playhead - W * view.spp * 0.1; clampView(); redraw(); }
      }
      requestOverlay();
    };
    for (const name of ['timeupdate', 'seeked', 'loadedmetadata']) video.addEventListener(name, follow);
    video.addEventListener('play', () => {
      const tick = () => { if (video.paused || video.ended) return; follow(); requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
    video.addEventListener('error', () => {
      state.videoError = true;
      state.playhead = null;
      video.parentElement.hidden = true;
      scriptNote(`The video ${video.getAttribute('src')} could not be played here (moved, ` +
        'missing, or a format this browser cannot play); the spectrum works without it.');
      requestOverlay();
    });
  }

  // ---- lists and header ----------------------------------------------------------------
  function listButton(atText, label, onClick, swatches) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    const at = document.createElement('span');
    at.className = 'at';
    at.textContent = atText;
    b.append(at);
    if (swatches) {
      const sws = document.createElement('span');
      sws.className = 'sws';
      for (const [colour, share] of swatches) {
        const s = document.createElement('span');
        s.style.flex = `${share} 0 0`;
        s.style.background = colour;
        sws.append(s);
      }
      b.append(sws);
    }
    const t = document.createElement('span');
    t.textContent = label;
    b.append(t);
    b.addEventListener('click', onClick);
    li.append(b);
    return li;
  }

  function buildLists() {
    const lists = $('lists');
    const section = (kind, title, fi) => {
      const s = document.createElement('section');
      s.className = kind;
      s.dataset.film = fi;
      const h = document.createElement('h2');
      h.textContent = multi ? `${title} — ${films[fi].label}` : title;
      const ol = document.createElement('ol');
      s.append(h, ol);
      lists.append(s);
      return ol;
    };
    for (const f of films) {
      if (f.chapters.length) {
        const ol = section('chapters', 'Chapters', f.index);
        for (const c of f.chapters) {
          ol.append(listButton(fmtTime(c.start), c.title || '(untitled)', () => goTo(f.index, c.start)));
        }
      }
      if (f.segments.length) {
        const ol = section('segments', 'Colour segments', f.index);
        for (const s of f.segments) {
          const top = s.colours.slice(0, 3).map((c) => c[0]).join(' ');
          ol.append(listButton(`${fmtTime(s.start)}–${fmtTime(s.end)}`, top,
            () => goTo(f.index, s.start + 1e-6), s.colours));
        }
      }
    }
  }

  function fillMeta() {
    const meta = $('meta');
    const span = (text) => { const s = document.createElement('span'); s.textContent = text; return s; };
    const parts = [];
    if (multi) {
      parts.push(`${films.length} films on one time axis`);
    } else {
      const f = films[0];
      if (f.source && f.source !== f.label) parts.push(f.source);
      if (f.duration) parts.push(fmtTime(f.duration));
    }
    const strips = films.reduce((s, f) => s + f.n, 0);
    parts.push(`${strips.toLocaleString('en')} strips`);
    if (!multi) parts.push(`one every ${films[0].step} s`);
    if (!multi && films[0].k) parts.push(`${films[0].k} colours each`);
    if (films.some((f) => f.partial)) parts.push('partial');
    meta.replaceChildren(...parts.map(span));
    over.setAttribute('aria-valuemin', String(Math.max(0, Math.floor(T0))));
    over.setAttribute('aria-valuemax', String(Math.ceil(T1)));
    over.setAttribute('aria-label', multi
      ? `Colour spectra of ${films.map((f) => f.label).join(', ')}: time cursor`
      : `Colour spectrum of ${films[0].label}: time cursor`);
  }

  // ---- start -------------------------------------------------------------------------------
  function resized() {
    hideTip(); // its place was for the old layout
    const wasFit = view.fit;
    const centre = tOf(W / 2);
    layout();
    if (wasFit) view.spp = fitSpp();
    view.t0 = wasFit ? T0 : centre - W * view.spp / 2;
    clampView();
    redraw();
  }

  readTheme();
  fillMeta();
  buildLists();
  layout();
  view.spp = fitSpp();
  clampView();
  drawBase(); // now, not on the next frame: the first paint shows the spectrum
  drawOverlay();
  performance.mark('streamspec:drawn');

  let lastSize = `${W}x${window.innerHeight}`;
  const onResize = () => {
    const size = `${Math.floor(wrap.clientWidth)}x${window.innerHeight}`;
    if (size !== lastSize) { lastSize = size; resized(); }
  };
  if (window.ResizeObserver) new ResizeObserver(onResize).observe(wrap);
  window.addEventListener('resize', onResize);
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  if (scheme.addEventListener) scheme.addEventListener('change', () => { readTheme(); redraw(); });

  // For tests, benchmarks and the curious (the console).
  window.streamspecPage = {
    films, lanes, view, state, stats, clock, fmtTime, merged, stripBox, hit, fitAll, zoomAt,
    nearestStrip, setCursor, get width() { return W; }, get height() { return H; },
  };
})();
