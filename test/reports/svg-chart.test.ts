import { expect } from 'chai';
import {
  assignLabelRows,
  computeNiceDomain,
  computeNiceStep,
  computeNiceTicks,
  createLinearScale,
  formatTick,
  renderChart,
  splitSegments,
} from '../../reports/html/svg-chart.js';
import { parseXml, findAll } from './xml-parse.js';

describe('reports/html/svg-chart', () => {
  it('linear scales map domain to range, including inverted (SVG y) ranges', () => {
    const x = createLinearScale([0, 10], [100, 200]);
    expect(x.map(0)).to.equal(100);
    expect(x.map(5)).to.equal(150);
    expect(x.map(12)).to.equal(220);
    const y = createLinearScale([0, 100], [300, 0]);
    expect(y.map(25)).to.equal(225);
    expect(createLinearScale([5, 5], [0, 10]).map(123)).to.equal(5);
  });

  it('nice ticks use 1-2-5 steps and stay inside the domain', () => {
    expect(computeNiceStep(100, 5)).to.equal(20);
    expect(computeNiceStep(1, 4)).to.equal(0.2);
    expect(computeNiceStep(73, 10)).to.equal(5);
    expect(computeNiceStep(80, 10)).to.equal(10);
    expect(computeNiceTicks(0, 100, 5)).to.deep.equal([0, 20, 40, 60, 80, 100]);
    expect(computeNiceTicks(-17, 45, 10)).to.deep.equal([-15, -10, -5, 0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    expect(computeNiceTicks(0.1, 0.7, 3)).to.deep.equal([0.2, 0.4, 0.6]);
    expect(computeNiceTicks(3, 3)).to.deep.equal([3]);
    expect(computeNiceTicks(Number.NaN, 1)).to.deep.equal([]);
    expect(computeNiceDomain(3, 97, 5)).to.deep.equal([0, 100]);
    expect(computeNiceDomain(0, 0)).to.deep.equal([0, 1]);
    expect(formatTick(0.30000000000000004, 0.1)).to.equal('0.3');
    expect(formatTick(40, 20)).to.equal('40');
  });

  it('splits a series at missing values instead of drawing them as zero', () => {
    const segments = splitSegments([
      { x: 0, y: 1 },
      { x: 1, y: 2 },
      { x: 2, y: null },
      { x: 3, y: Number.NaN },
      { x: 4, y: 5 },
    ]);
    expect(segments).to.deep.equal([
      [
        { x: 0, y: 1 },
        { x: 1, y: 2 },
      ],
      [{ x: 4, y: 5 }],
    ]);
  });

  it('packs marker labels into rows without overlap', () => {
    const rows = assignLabelRows(
      [
        { x: 0, width: 50 },
        { x: 10, width: 50 },
        { x: 60, width: 50 },
        { x: 20, width: 50 },
      ],
      3,
      1000,
    );
    expect(rows).to.deep.equal([0, 1, 0, 2]);
  });

  it('renders well-formed SVG with polylines, bands, markers, rules, a legend, and escapes every label', () => {
    const svg = renderChart({
      width: 600,
      height: 200,
      title: 'Rate <&> "q"',
      description: 'desc & <script>alert(1)</script>',
      x: { domain: [0, 10], label: 'seconds' },
      y: { label: 'req/s' },
      series: [
        {
          name: 'a<b',
          color: '#f00',
          points: [
            { x: 0, y: 1 },
            { x: 5, y: 3 },
            { x: 6, y: null },
            { x: 8, y: 2 },
          ],
        },
      ],
      bands: [{ from: 2, to: 4, label: 'detect', color: '#eee' }],
      markers: [{ x: 3, label: 'fault </text><script>', color: 'red' }],
      rules: [{ y: 2.5, label: 'SLO p(95) < 300ms', color: 'blue' }],
      markerLabels: true,
    });
    expect(svg).to.not.include('<script>');
    const tree = parseXml(svg);
    expect(tree.name).to.equal('svg');
    expect(findAll(tree, 'polyline')).to.have.length(2);
    expect(findAll(tree, 'rect').filter((r) => r.attrs.class === 'band')).to.have.length(1);
    expect(findAll(tree, 'line').filter((l) => l.attrs.class === 'marker')).to.have.length(1);
    expect(findAll(tree, 'line').filter((l) => l.attrs.class === 'rule')).to.have.length(1);
    const texts = findAll(tree, 'text').map((t) => t.text);
    expect(texts).to.include('Rate <&> "q"');
    expect(texts).to.include('fault </text><script>');
    expect(texts).to.include('SLO p(95) < 300ms');
    expect(texts).to.include('a<b');
    // Ticks on the x axis from the nice-tick rule.
    expect(texts).to.include.members(['0', '2', '4', '6', '8', '10']);
    // Points map through the scale: x=0 sits at the left margin, x=10 at the right edge of the plot.
    const first = findAll(tree, 'polyline')[0]?.attrs.points?.split(' ')[0];
    expect(first?.startsWith('56.0,')).to.equal(true);
  });
});
