import type { ReactNode } from 'react'

interface RingGaugeProps {
  /** 0–100; values outside are clamped. */
  percent: number
  /** A Mantine colour name (teal, orange, red…). */
  color: string
  size?: number
  thickness?: number
  label?: ReactNode
  'aria-label'?: string
}

/**
 * A ring that fills with a percentage. Mantine's RingProgress brings its tooltip machinery (floating-ui,
 * ~80 kB) along; a gauge on a page that updates every second needs none of it.
 */
export function RingGauge({ percent, color, size = 120, thickness = 12, label, ...rest }: RingGaugeProps) {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0))
  const radius = (size - thickness) / 2
  const circumference = 2 * Math.PI * radius
  // The track and the filled arc are the same circle; only their stroke differs.
  const ring = { cx: size / 2, cy: size / 2, r: radius, fill: 'none', strokeWidth: thickness }
  return (
    <div
      role="meter"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped)}
      aria-label={rest['aria-label']}
      style={{ position: 'relative', width: size, height: size, flex: 'none' }}
    >
      <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} style={{ transform: 'rotate(-90deg)' }}>
        <circle {...ring} stroke="var(--mantine-color-default-border)" />
        <circle
          {...ring}
          strokeLinecap={clamped > 0 ? 'round' : 'butt'}
          stroke={`var(--mantine-color-${color}-filled)`}
          strokeDasharray={`${(clamped / 100) * circumference} ${circumference}`}
          style={{ transition: 'stroke-dasharray 300ms ease' }}
        />
      </svg>
      <div
        style={{
          position: 'absolute',
          inset: 0,
          display: 'flex',
          alignItems: 'center',
          justifyContent: 'center',
        }}
      >
        {label}
      </div>
    </div>
  )
}
