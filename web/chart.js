// Chart.js, bundled from its npm package by `npm run build` (esbuild) into static/vendor/chart.min.js for
// the figures page. Only the pieces the page draws are registered (bars and lines on category and linear
// axes), which keeps the bundle small. Served by the app itself, never from a CDN. Exposes window.Chart.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
window.Chart = Chart;
