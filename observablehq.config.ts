// Observable Framework site configuration for FetalCLIP Explorer.
export default {
  title: "FetalCLIP Explorer",
  root: "src",
  output: "dist",
  // No Google Fonts link: the site must build and run offline.
  globalStylesheets: [],
  style: "style.css",
  pages: [
    {name: "Model bundles", path: "/"},
    {name: "Phantom dataset", path: "/phantom"},
    {name: "Zero-shot on the phantom", path: "/zero-shot"},
    {name: "Live zero-shot", path: "/live"}
  ],
  footer: "FetalCLIP Explorer. FetalCLIP: Maani et al., 2025.",
  search: false,
  toc: true,
  cleanUrls: false
};
