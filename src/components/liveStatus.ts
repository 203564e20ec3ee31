// The live page's status: one aria-live region that says what the model is doing
// or what it answered, marked for tests and screen readers (data-state, data-top-class,
// data-probabilities, data-source, data-ga-days), and the notes about the run.
import {html} from "htl";
import type {LiveState} from "../runtime/liveClient.js";
import {formatBytes as mb} from "./formatBytes.js";
const weeksDays = (days: number) => `${Math.floor(days / 7)}w${days % 7}d`;

function downloadText(state: LiveState): string {
  const [runtime, runtimeTotal] = state.download.runtime;
  const [model, modelTotal] = state.download.model;
  if (runtimeTotal === 0) return "Starting the inference worker…";
  const parts = [`runtime ${mb(runtime)} of ${mb(runtimeTotal)}`];
  if (modelTotal > 0) parts.push(`model ${mb(model)}`);
  return runtime < runtimeTotal || modelTotal === 0 ? `Downloading: ${parts.join(", ")}…` : `Opening the model (${parts.join(", ")} downloaded)…`;
}

/** Updates `element` (made by liveStatus) to show `state`. */
export function renderLiveStatus(element: HTMLElement, state: LiveState, classes: readonly string[]): void {
  const region = element.querySelector<HTMLElement>("[data-testid=live-result]")!;
  const details = element.querySelector<HTMLElement>(".live-details")!;
  const scored = state.scored;
  const busy = state.phase === "loading" || state.scoring;
  const dataState = state.error ? "error" : busy || !scored ? "loading" : "ready";
  region.dataset.state = dataState;
  let text: string;
  if (state.error) text = state.error.message;
  else if (state.phase === "loading") text = downloadText(state);
  else if (state.scoring || !scored) text = "Scoring the image…";
  else {
    const best = scored.planes.indexOf(Math.max(...scored.planes));
    text = `Top plane: ${classes[best]} (probability ${scored.planes[best]!.toFixed(3)})`;
    if (state.ga) text += `; GA estimate ${weeksDays(state.ga.gaDays)} (${state.ga.gaDays} days)`;
    else if (state.gaPending) text += "; estimating GA (875 prompts for a new pixel spacing, a few seconds)…";
  }
  region.textContent = text;
  region.classList.toggle("live-error", Boolean(state.error));
  if (dataState === "ready" && scored) {
    const best = scored.planes.indexOf(Math.max(...scored.planes));
    region.dataset.topClass = classes[best]!;
    region.dataset.probabilities = JSON.stringify(Object.fromEntries(classes.map((c, i) => [c, scored.planes[i]])));
    region.dataset.source = scored.source;
    if (state.ga && state.ga.scoreId === scored.id) region.dataset.gaDays = String(state.ga.gaDays);
    else delete region.dataset.gaDays;
  } else {
    for (const key of ["topClass", "probabilities", "source", "gaDays"]) delete region.dataset[key];
  }
  const lines: string[] = [];
  if (state.model && state.ep) {
    lines.push(`Model ${state.model.name} (${state.model.id}) runs on ${state.ep.image} (image encoder) and ${state.ep.text} (text encoder), in a Web Worker; its 60 class prompts were encoded once, in ${Math.round(state.promptMs ?? 0)} ms.`);
  }
  if (scored && dataState === "ready") lines.push(`Image encoder: ${scored.encodeMs.toFixed(1)} ms; decode, preprocess, encode and score: ${scored.totalMs.toFixed(0)} ms.`);
  details.replaceChildren(...lines.map((line) => html`<p class="muted">${line}</p>`), ...state.notes.map((note) => html`<p class="note">${note}</p>`));
}

/** The status element; render it with renderLiveStatus on every state change. */
export function liveStatus(): HTMLElement {
  return html`<div class="card live-status">
    <p data-testid="live-result" aria-live="polite" data-state="loading" class="live-result">Starting…</p>
    <div class="live-details"></div>
  </div>`;
}
