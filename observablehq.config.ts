// Observable Framework site configuration for FetalCLIP Explorer.
export default {
  title: "FetalCLIP Explorer",
  root: "src",
  output: "dist",
  // No Google Fonts link: the site must build and run offline.
  globalStylesheets: [],
  // A custom style replaces Framework's `theme` option (Framework ignores `theme` when `style`
  // is set), so style.css itself imports the light theme (air) and the dark one
  // (near-midnight) under prefers-color-scheme, as `theme: ["air", "near-midnight"]` would.
  style: "style.css",
  // Framework copies files that `head` links to; with an icon declared, browsers do not ask
  // for the missing /favicon.ico.
  head: '<link rel="icon" href="favicon.svg" type="image/svg+xml" sizes="any">',
  pages: [
    {name: "Model bundles", path: "/"},
    {name: "Phantom dataset", path: "/phantom"},
    {name: "Zero-shot on the phantom", path: "/zero-shot"},
    {name: "The paper's results", path: "/paper"},
    {name: "Gestational age", path: "/gestational-age"},
    {name: "Live zero-shot", path: "/live"},
    {name: "Embeddings", path: "/embeddings"},
    {name: "Probes", path: "/probes"},
    {name: "Where the model looks (CAM)", path: "/cam"},
    {name: "Compare", path: "/compare"}
  ],
  footer: "FetalCLIP Explorer. FetalCLIP: Maani et al., 2025.",
  search: false,
  toc: true,
  // Links keep their .html extension, so dist/ works from any static server (was `cleanUrls: false`).
  preserveExtension: true
};
