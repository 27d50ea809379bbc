#version 450
// draw.vert with the cell index in a push constant set before each draw
// (how renderers pass per-object data), not in firstInstance.
layout(push_constant) uniform Params { uint cell; } p;
layout(location = 0) flat out uint v_id;

const vec2 quad[6] = vec2[](vec2(0, 0), vec2(1, 0), vec2(0, 1),
                            vec2(1, 0), vec2(1, 1), vec2(0, 1));

void main()
{
   uint i = p.cell;
   vec2 cell = vec2(float(i % 100u), float(i / 100u));
   vec2 pos = (cell + quad[gl_VertexIndex]) / 100.0 * 2.0 - 1.0;
   gl_Position = vec4(pos, 0.0, 1.0);
   v_id = i;
}
