// A client-side interval for Reflex: calls onTick every `interval` ms while mounted (0 = stopped).
// The canvas mounts it while the round it shows is In Progress (marketing_app/components/ticker.py).
import { useEffect, useRef } from "react";

export function Ticker({ interval = 0, onTick }) {
  const callback = useRef(onTick);
  callback.current = onTick;
  useEffect(() => {
    if (!interval) return undefined;
    const timer = setInterval(() => { if (callback.current) callback.current(); }, interval);
    return () => clearInterval(timer);
  }, [interval]);
  return null;
}
