// One model bundle as a card: architecture, files, provenance, parity.
import {html} from "htl";
import type {ModelManifest, ParityReport} from "../lib/bundle.js";
import {formatBytes} from "./formatBytes.js";

export interface BundleView {
  dir: string;
  manifest: ModelManifest;
  files: {name: string; bytes: number}[];
  totalBytes: number;
  parity: ParityReport | null;
}

// Tables inside a card stop at Framework's 640 px table width; a monospace hex digit is about 7 px.
const TABLE_MAX_PX = 640;
const HEX_DIGIT_PX = 7;

/** A bundle as a card; `width` (the card's width) decides how much of each SHA-256 fits. */
export function bundleCard(b: BundleView, options: {width?: number} = {}): HTMLElement {
  const m = b.manifest;
  // Room left for the hash after the role and file columns and the card's padding.
  const hashPx = Math.min(TABLE_MAX_PX, (options.width ?? TABLE_MAX_PX) - 32) - 240;
  const hashDigits = Math.max(16, Math.min(64, Math.floor(hashPx / HEX_DIGIT_PX)));
  const hash = (sha256: string) => (sha256.length > hashDigits ? `${sha256.slice(0, hashDigits)}…` : sha256);
  const v = m.config.vision_cfg;
  const t = m.config.text_cfg;
  const grid = v.image_size / v.patch_size;
  const parity = b.parity;
  return html`<div class="card">
    <h2>${m.name} <span class="muted mono">${m.id}</span></h2>
    <p>Image encoder: ViT with ${v.layers} layers, width ${v.width}, patch ${v.patch_size} at ${v.image_size} px
      (${grid}×${grid} patches), ${(m.params.image / 1e6).toFixed(2)} M parameters.
      Text encoder: ${t.layers} layers, width ${t.width}, ${t.heads} heads, context ${t.context_length},
      vocabulary ${t.vocab_size}, ${(m.params.text / 1e6).toFixed(2)} M parameters. Joint embedding: ${m.embedDim} dimensions,
      logit scale ${Math.exp(m.logitScale).toFixed(1)}. Licence: ${m.licence}.</p>
    <table>
      <thead><tr><th>file</th><th>size</th></tr></thead>
      <tbody>${b.files.map((f) => html`<tr><td class="mono">${f.name}</td><td title=${`${f.bytes.toLocaleString("en-US")} bytes`}>${formatBytes(f.bytes)}</td></tr>`)}</tbody>
    </table>
    <p><strong>Provenance</strong>, imported ${m.source.importedAt.slice(0, 10)} by ${m.source.importer}:</p>
    <table>
      <thead><tr><th>role</th><th>file</th><th>SHA-256</th></tr></thead>
      <tbody>${m.source.files.map((f) => html`<tr><td>${f.role}</td><td class="mono">${f.name}</td><td class="mono" title=${f.sha256}>${hash(f.sha256)}</td></tr>`)}</tbody>
    </table>
    ${parity
      ? html`<p><strong>Parity with open_clip</strong> (${parity.ep}, ${parity.checkedAt.slice(0, 10)}):
          <span class=${parity.pass ? "ok" : "bad"}>${parity.pass ? "pass" : "fail"}</span>;
          image cosine ≥ ${Math.min(...parity.images.map((i) => i.cosine)).toFixed(6)} over ${parity.images.length} images,
          text cosine ≥ ${parity.texts.minCosine.toFixed(6)} over ${parity.texts.count} texts.</p>`
      : html`<p><strong>Parity</strong>: not checked. Run <code>npx fetalclip verify --model ${b.dir} --reference DIR</code>.</p>`}
  </div>`;
}
