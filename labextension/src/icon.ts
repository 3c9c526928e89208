import { LabIcon } from '@jupyterlab/ui-components';

/**
 * A GPU board with a fan: the sidebar tab icon.
 */
const gpuSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161" fill-rule="evenodd">
    <path d="M2 6h18a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-4v2h-2v-2H9v2H7v-2H4v2H2zm2 2v8h16V8zm9 1.5a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5zm0 1.5a1 1 0 1 0 0 2 1 1 0 0 0 0-2zM5.5 9.5h3v1h-3zm0 2h3v1h-3zm0 2h3v1h-3zm11.5-4h1.5v5H17z"/>
  </g>
</svg>`;

export const gpuIcon = new LabIcon({
  name: 'jupyter-gpu-kernels:gpu',
  svgstr: gpuSvg
});
