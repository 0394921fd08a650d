-- Argo CD resource action "resume" for ModelDeployment: end a manual pause by removing
-- modelship.dev/paused. It does not pass a `pause: {}` step: that is "promote".
-- If Git itself sets modelship.dev/paused: "true", change it in Git instead (a sync would put it back).
if obj.metadata.annotations ~= nil then
  obj.metadata.annotations["modelship.dev/paused"] = nil
end
return obj
