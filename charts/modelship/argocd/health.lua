-- Argo CD health check for modelship.dev/v1alpha1 ModelDeployment.
-- Runs in Argo CD's Lua sandbox: Lua 5.1 (gopher-lua) with only the base functions, `table` and
-- `require("os")` (time, date); no string or math library, so this script uses only ==, ..,
-- tostring and table lookups.
-- Contract: the global `obj` is the live object; return {status = ..., message = ...}.
--   Healthy     the requested revision serves and passes the prober (phase Healthy)
--   Progressing a rollout is moving, or the operator has not yet observed this generation
--   Suspended   waiting for a person: a manual pause or a `pause: {}` step (phase Paused)
--   Degraded    a failed check, an aborted canary, an invalid spec (reason and message shown)
-- A timed pause is Progressing, never Suspended: nobody has to act.

local hs = { status = "Progressing", message = "" }

local function conditionOf(status, condType, generation)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == condType then
      -- A condition computed from an older generation says nothing about this one.
      if c.observedGeneration ~= nil and generation ~= nil and c.observedGeneration ~= generation then
        return nil
      end
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function describe(c, fallback)
  local msg = fallback
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    msg = c.message
  end
  if msg == nil or msg == "" then
    msg = "no message from the operator"
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason .. ": " .. msg
  end
  return msg
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local st = obj.status

-- Not observed yet: a brand-new object (no status at all) or a spec change the operator has not
-- reconciled. Progressing, with a message that says what Argo CD is waiting for, never Degraded:
-- an older status (even a Degraded one) describes a spec that is no longer asked for.
if st == nil or st.observedGeneration == nil or (generation ~= nil and st.observedGeneration < generation) then
  local want = "the current generation"
  if generation ~= nil then
    want = "generation " .. tostring(generation)
  end
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe " .. want
  if st ~= nil and st.observedGeneration ~= nil then
    hs.message = hs.message .. " (last observed: " .. tostring(st.observedGeneration) .. ")"
  end
  return hs
end

local phase = st.phase
local degraded = conditionOf(st, "Degraded", generation)
local invalid = conditionOf(st, "InvalidSpec", generation)
local paused = conditionOf(st, "Paused", generation)

if isTrue(invalid) then
  hs.status = "Degraded"
  hs.message = describe(invalid, st.message)
  return hs
end

if phase == "Degraded" or isTrue(degraded) then
  hs.status = "Degraded"
  hs.message = describe(degraded, st.message)
  return hs
end

if phase == "Paused" or isTrue(paused) then
  hs.status = "Suspended"
  hs.message = describe(paused, st.message)
  return hs
end

if phase == "Healthy" then
  hs.status = "Healthy"
  hs.message = st.message or ""
  local available = conditionOf(st, "Available", generation)
  if available ~= nil and available.status == "False" then
    -- Healthy phase but not all pods behind the traffic are Ready (e.g. a node went away):
    -- the operator is restoring capacity.
    hs.status = "Progressing"
    hs.message = describe(available, st.message)
  end
  return hs
end

if phase == "Progressing" then
  -- The operator's message already names the canary, its weight and the probes.
  hs.status = "Progressing"
  local msg = st.message
  if msg == nil or msg == "" then
    local progressing = conditionOf(st, "Progressing", generation)
    msg = describe(progressing, nil)
    if st.canaryRevision ~= nil and st.canaryWeight ~= nil then
      msg = "canary " .. st.canaryRevision .. " at " .. tostring(st.canaryWeight) .. "%"
    end
  end
  hs.message = msg
  return hs
end

-- observedGeneration is set but no phase we know: an operator older or newer than this script.
hs.status = "Progressing"
if phase == nil then
  hs.message = "the operator has not reported a phase yet"
else
  hs.message = "unknown phase " .. tostring(phase) .. ": " .. tostring(st.message)
end
return hs
