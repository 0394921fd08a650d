-- Argo CD resource action discovery for ModelDeployment: which actions the UI offers, and which
-- are greyed out for the object's current state. Sandbox: base functions and `table` only.
local actions = {}
local st = obj.status or {}
local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end
local canary = st.canaryRevision ~= nil and st.canaryRevision ~= ""
local rejected = st.rejectedRevision ~= nil and st.rejectedRevision ~= ""
local manuallyPaused = annotations["modelship.dev/paused"] == "true"

actions["promote"] = { ["disabled"] = not canary, ["iconClass"] = "fa fa-fw fa-forward" }
actions["promote-full"] = { ["disabled"] = not canary, ["iconClass"] = "fa fa-fw fa-fast-forward" }
actions["abort"] = { ["disabled"] = not canary, ["iconClass"] = "fa fa-fw fa-times-circle" }
actions["retry"] = { ["disabled"] = not rejected, ["iconClass"] = "fa fa-fw fa-redo-alt" }
actions["pause"] = { ["disabled"] = manuallyPaused, ["iconClass"] = "fa fa-fw fa-pause-circle" }
actions["resume"] = { ["disabled"] = not manuallyPaused, ["iconClass"] = "fa fa-fw fa-play-circle" }
return actions
