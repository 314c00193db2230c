import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface ChartSeries {
  label: string
  color: string
  /** Dashed: a reference line such as the predicted peak. */
  dash?: boolean
  /** Drawn as steps (a value holds until the next point), for sampled amounts like memory. */
  stepped?: boolean
}

/**
 * A small uPlot line chart: x values and one array of y values per series. The plot is built once
 * per set of series and then only fed new data, so a chart updated several times a second stays cheap.
 */
export function SeriesChart({
  xLabel,
  series,
  x,
  ys,
  height = 200,
  fromZero = false,
  exponent = false,
  testId,
}: {
  xLabel: string
  series: ChartSeries[]
  x: number[]
  ys: Array<Array<number | null>>
  height?: number
  /** The y axis starts at 0 (amounts such as memory), not at the lowest value (loss). */
  fromZero?: boolean
  /** y labels as 1.0e-4 (learning rates), where the default rounding would print 0. */
  exponent?: boolean
  testId: string
}) {
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const shape = JSON.stringify([xLabel, series, height, fromZero, exponent])
  useEffect(() => {
    const el = host.current
    if (!el) return
    const [label, list, h, zero, exp] = JSON.parse(shape) as [string, ChartSeries[], number, boolean, boolean]
    const stepped = uPlot.paths.stepped?.({ align: 1 })
    plot.current = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: h,
        scales: {
          x: { time: false },
          ...(zero
            ? { y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max * 1.1] } }
            : {}),
        },
        series: [
          { label },
          ...list.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: s.dash ? 1 : 2,
            dash: s.dash ? [6, 4] : undefined,
            paths: s.stepped ? stepped : undefined,
            points: { show: false },
          })),
        ],
        axes: [
          {},
          exp
            ? {
                size: 64,
                values: (_u: uPlot, vals: number[]) => vals.map((v) => (v === 0 ? '0' : v.toExponential(1))),
              }
            : {},
        ],
      },
      [[], ...list.map(() => [])],
      el,
    )
    return () => {
      plot.current?.destroy()
      plot.current = null
    }
  }, [shape])
  // Runs after the effect above, so a re-built plot gets the data too.
  useEffect(() => {
    plot.current?.setData([x, ...ys])
  }, [x, ys, shape])
  return <div ref={host} data-testid={testId} data-points={x.length} />
}
