#version 450
// One 4x4-pixel quad per instance on a 100x100 grid covering the target;
// the instance index (firstInstance of each small draw) picks the cell.
layout(location = 0) flat out uint v_id;

const vec2 quad[6] = vec2[](vec2(0, 0), vec2(1, 0), vec2(0, 1),
                            vec2(1, 0), vec2(1, 1), vec2(0, 1));

void main()
{
   uint i = uint(gl_InstanceIndex);
   vec2 cell = vec2(float(i % 100u), float(i / 100u));
   vec2 p = (cell + quad[gl_VertexIndex]) / 100.0 * 2.0 - 1.0;
   gl_Position = vec4(p, 0.0, 1.0);
   v_id = i;
}
